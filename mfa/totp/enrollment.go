package totp

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"strconv"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QRSize is the width and height of the QR code image in pixels.
const QRSize = 256

// qrMargin is the white border around the code: scanners need a quiet
// zone, and the page may have a dark background.
const qrMargin = 16

// ErrLabel reports an issuer or account name an authenticator app cannot
// show: empty, or holding the colon that separates the two in the URI.
var ErrLabel = errors.New("the issuer and account name must be non-empty and must not contain a colon")

// Enrollment is what the user needs to add the secret to an app: the
// otpauth:// URI (shown as a QR code), the key as text for typing in by
// hand, and the issuer and account name the app will display.
type Enrollment struct {
	URI     string
	KeyText string // base32, no padding, in groups of four: "JBSW Y3DP EHPK 3PXP"
	Issuer  string
	Account string
}

var base32NoPadding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewEnrollment builds the enrollment details of a secret for an account
// (usually the user's email) at an issuer (the product or organisation name).
func NewEnrollment(issuer, account string, s Secret) (Enrollment, error) {
	if len(s) != SecretSize {
		return Enrollment{}, ErrSecretSize
	}
	if issuer == "" || account == "" || strings.Contains(issuer, ":") || strings.Contains(account, ":") {
		return Enrollment{}, ErrLabel
	}
	key := base32NoPadding.EncodeToString(s)
	return Enrollment{
		URI:     keyURI(issuer, account, key),
		KeyText: groupsOfFour(key),
		Issuer:  issuer,
		Account: account,
	}, nil
}

// keyURI writes the Key URI Format that authenticator apps read. It is
// built here rather than by the otp package because that one leaves "&",
// "+" and "=" unescaped in the issuer parameter, which breaks names like
// "Smith & Sons".
func keyURI(issuer, account, key string) string {
	return "otpauth://totp/" + url.PathEscape(issuer) + ":" + url.PathEscape(account) +
		"?secret=" + key +
		"&issuer=" + queryEscape(issuer) +
		"&algorithm=SHA1" +
		"&digits=" + strconv.Itoa(Digits) +
		"&period=" + strconv.Itoa(Period)
}

// queryEscape escapes a query value with %20 for spaces: some apps show a
// "+" literally.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func groupsOfFour(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// QRPNG returns the URI as a QR code: a QRSize×QRSize PNG, black on white
// with a white border.
func (e Enrollment) QRPNG() ([]byte, error) {
	code, err := qr.Encode(e.URI, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	// Scale by a whole number of pixels per module: uneven modules make
	// the code hard to read for some scanners.
	modules := code.Bounds().Dx()
	side := max(1, (QRSize-2*qrMargin)/modules) * modules
	scaled, err := barcode.Scale(code, side, side)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	canvas := image.NewGray(image.Rect(0, 0, QRSize, QRSize))
	draw.Draw(canvas, canvas.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	offset := (QRSize - side) / 2
	draw.Draw(canvas, scaled.Bounds().Add(image.Pt(offset, offset)), scaled, scaled.Bounds().Min, draw.Src)
	var out bytes.Buffer
	if err := png.Encode(&out, canvas); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return out.Bytes(), nil
}
