package totp

import (
	"bytes"
	"encoding/base32"
	"errors"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// helloSecret is the bytes of the well-known example key JBSWY3DPEHPK3PXP…
var helloSecret = Secret("Hello!\xde\xad\xbe\xefHello!\xde\xad\xbe\xef")

func TestNewEnrollment(t *testing.T) {
	e, err := NewEnrollment("Gatehouse", "alice@example.com", helloSecret)
	if err != nil {
		t.Fatal(err)
	}
	want := Enrollment{
		URI:     "otpauth://totp/Gatehouse:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30",
		KeyText: "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP",
		Issuer:  "Gatehouse",
		Account: "alice@example.com",
	}
	if e != want {
		t.Fatalf("NewEnrollment =\n%+v\nwant\n%+v", e, want)
	}
}

// Names with spaces and URI punctuation must reach the app unchanged.
func TestEnrollmentURIKeepsNamesIntact(t *testing.T) {
	for _, c := range []struct{ issuer, account string }{
		{"Smith & Sons", "bob+2fa@example.com"},
		{"A=B?C#D", "a b/c%d"},
		{"Zürich Bank", "élodie@example.ch"},
	} {
		e, err := NewEnrollment(c.issuer, c.account, helloSecret)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(e.URI)
		if err != nil {
			t.Fatalf("the URI %q does not parse: %v", e.URI, err)
		}
		q := u.Query()
		if u.Scheme != "otpauth" || u.Host != "totp" {
			t.Errorf("URI %q: scheme %q host %q", e.URI, u.Scheme, u.Host)
		}
		if u.Path != "/"+c.issuer+":"+c.account {
			t.Errorf("URI %q: label %q, want %q", e.URI, u.Path, "/"+c.issuer+":"+c.account)
		}
		if q.Get("issuer") != c.issuer {
			t.Errorf("URI %q: issuer parameter %q, want %q", e.URI, q.Get("issuer"), c.issuer)
		}
		if strings.Contains(u.RawQuery, "+") {
			t.Errorf("URI %q: a space written as +, which some apps show literally", e.URI)
		}
		for name, want := range map[string]string{"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "algorithm": "SHA1", "digits": "6", "period": "30"} {
			if got := q.Get(name); got != want {
				t.Errorf("URI %q: %s = %q, want %q", e.URI, name, got, want)
			}
		}
	}
}

func TestNewEnrollmentRefusesBadInput(t *testing.T) {
	for _, c := range []struct {
		name, issuer, account string
		secret                Secret
		want                  error
	}{
		{"no issuer", "", "alice@example.com", helloSecret, ErrLabel},
		{"no account", "Gatehouse", "", helloSecret, ErrLabel},
		{"colon in issuer", "Gate:house", "alice@example.com", helloSecret, ErrLabel},
		{"colon in account", "Gatehouse", "alice:x@example.com", helloSecret, ErrLabel},
		{"short secret", "Gatehouse", "alice@example.com", helloSecret[:10], ErrSecretSize},
	} {
		if _, err := NewEnrollment(c.issuer, c.account, c.secret); !errors.Is(err, c.want) {
			t.Errorf("%s: NewEnrollment = %v, want %v", c.name, err, c.want)
		}
	}
}

// The QR code is what phones scan: it must read back as exactly the URI,
// and the key in it must be the one shown as text.
func TestQRPNGReadsBackAsTheURI(t *testing.T) {
	// Many secrets: a code that only some images make readable would leave
	// a user stuck at enrollment.
	for range 50 {
		checkQRReadsBack(t)
	}
}

func checkQRReadsBack(t *testing.T) {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEnrollment("Smith & Sons", "alice@example.com", s)
	if err != nil {
		t.Fatal(err)
	}
	data, err := e.QRPNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("QRPNG is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != QRSize || b.Dy() != QRSize {
		t.Fatalf("QR image is %dx%d, want %dx%d", b.Dx(), b.Dy(), QRSize, QRSize)
	}
	bitmap, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// The reader's pure-barcode mode reads a clean, upright image such as
	// ours; its finder-pattern search alone misses about one image in 300.
	result, err := qrcode.NewQRCodeReader().Decode(bitmap, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("the QR code cannot be read: %v", err)
	}
	if result.GetText() != e.URI {
		t.Fatalf("the QR code reads %q, want %q", result.GetText(), e.URI)
	}
	u, err := url.Parse(result.GetText())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Query().Get("secret"), strings.ReplaceAll(e.KeyText, " ", ""); got != want {
		t.Fatalf("the QR code's secret %q differs from the key shown as text %q", got, want)
	}
}

// Typing the key by hand must give the app the same secret as scanning.
func TestKeyTextDecodesToTheSecret(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEnrollment("Gatehouse", "alice@example.com", s)
	if err != nil {
		t.Fatal(err)
	}
	groups := strings.Split(e.KeyText, " ")
	if len(groups) != 8 {
		t.Fatalf("KeyText %q has %d groups, want 8 of four", e.KeyText, len(groups))
	}
	for _, g := range groups {
		if len(g) != 4 {
			t.Fatalf("KeyText %q has a group %q not of four", e.KeyText, g)
		}
	}
	back, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.Join(groups, ""))
	if err != nil || !bytes.Equal(back, s) {
		t.Fatalf("KeyText %q decodes to %x, %v; want %x", e.KeyText, back, err, []byte(s))
	}
}
