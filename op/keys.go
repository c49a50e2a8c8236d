package op

import (
	"github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/op/signing"
)

// librarySigningKey presents the active key to the library's token builders.
type librarySigningKey struct{ k *signing.Key }

var _ zop.SigningKey = librarySigningKey{}

func (s librarySigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return s.k.Alg }
func (s librarySigningKey) Key() any                                    { return s.k.Signer }
func (s librarySigningKey) ID() string                                  { return s.k.ID }

// publicKey presents a published key to the library's verifiers.
type publicKey struct{ k jose.JSONWebKey }

var _ zop.Key = publicKey{}

func (p publicKey) ID() string                         { return p.k.KeyID }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(p.k.Algorithm) }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Key }
