package signing

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/storage"
)

// rsaBits is the modulus size of RS256 keys.
const rsaBits = 2048

// errUndecryptable hints at the usual cause: the server runs with another
// secret key than the one the signing keys were stored under.
var errUndecryptable = errors.New("cannot decrypt the private key; is --secret-key the one this database was set up with?")

// checkAlg refuses algorithms Gatehouse does not sign with.
func checkAlg(alg string) error {
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256, jose.ES256:
		return nil
	}
	return fmt.Errorf("signing algorithm %q is not supported; use RS256 or ES256", alg)
}

// newKeyID returns a random, URL-safe key id of 16 characters.
func newKeyID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails; see crypto/rand.Read
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// generate makes a new key pair for alg and returns it as a row ready to
// store, apart from its generation and times.
func generate(aead cipher.AEAD, alg string) (*storage.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, checkAlg(alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	id := newKeyID()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode %s key: %w", alg, err)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: id, Algorithm: alg, Use: "sig"})
	if err != nil {
		return nil, fmt.Errorf("encode %s public key: %w", alg, err)
	}
	return &storage.SigningKey{ID: id, Alg: alg, PrivateKey: seal(aead, id, der), PublicJWK: string(jwk)}, nil
}

// newAEAD returns AES-256-GCM under the 32-byte key.
func newAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		// Only possible for a key that is not 16, 24 or 32 bytes long;
		// secretkey.Derive always gives 32.
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err) // AES has the block size GCM needs
	}
	return aead
}

// seal encrypts a PKCS#8 private key as nonce || ciphertext. The key id is
// the additional data, so a ciphertext moved onto another row does not open.
func seal(aead cipher.AEAD, id string, der []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(der)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, der, []byte(id))
}

// open reverses seal.
func open(aead cipher.AEAD, id string, sealed []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errUndecryptable
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	der, err := aead.Open(nil, nonce, ciphertext, []byte(id))
	if err != nil {
		return nil, errUndecryptable
	}
	return der, nil
}

// parsed is a stored key made ready to use.
type parsed struct {
	key        Key
	public     jose.JSONWebKey
	generation int64
	row        storage.SigningKey
}

// parse decrypts and checks a stored key: the private key must be of the
// row's algorithm and match the published public key, so a damaged or
// altered row fails loudly instead of signing tokens nobody can verify.
func parse(aead cipher.AEAD, row storage.SigningKey) (*parsed, error) {
	fail := func(err error) (*parsed, error) {
		return nil, fmt.Errorf("signing key %s: %w", row.ID, err)
	}
	if err := checkAlg(row.Alg); err != nil {
		return fail(err)
	}
	der, err := open(aead, row.ID, row.PrivateKey)
	if err != nil {
		return fail(err)
	}
	raw, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return fail(fmt.Errorf("private key: %w", err))
	}
	signer, ok := raw.(crypto.Signer)
	if !ok || !fitsAlg(signer, row.Alg) {
		return fail(fmt.Errorf("the private key is not a %s key", row.Alg))
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(row.PublicJWK)); err != nil {
		return fail(fmt.Errorf("public key: %w", err))
	}
	pub, ok := jwk.Key.(interface{ Equal(crypto.PublicKey) bool })
	if !jwk.IsPublic() || !ok || !pub.Equal(signer.Public()) || jwk.KeyID != row.ID || jwk.Algorithm != row.Alg {
		return fail(errors.New("the public key does not match the private key"))
	}
	return &parsed{
		key:        Key{ID: row.ID, Alg: jose.SignatureAlgorithm(row.Alg), Signer: signer},
		public:     jwk,
		generation: row.Generation,
		row:        row,
	}, nil
}

// fitsAlg reports whether signer is the kind of key alg signs with.
func fitsAlg(signer crypto.Signer, alg string) bool {
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		return alg == string(jose.RS256) && k.N.BitLen() >= rsaBits
	case *ecdsa.PrivateKey:
		return alg == string(jose.ES256) && k.Curve == elliptic.P256()
	}
	return false
}
