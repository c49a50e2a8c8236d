package mailtest

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
)

// Text is the mail's plain-text part, decoded, as its reader would see it.
func (m Received) Text() (string, error) {
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		return "", err
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		return decodePart(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if err == io.EOF {
			return "", fmt.Errorf("mailtest: no text/plain part")
		}
		if err != nil {
			return "", err
		}
		if t, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); t == "text/plain" {
			// multipart decodes quoted-printable itself.
			return decodePart(p, p.Header.Get("Content-Transfer-Encoding"))
		}
	}
}

func decodePart(r io.Reader, encoding string) (string, error) {
	if strings.EqualFold(encoding, "base64") {
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Links are the addresses in the mail's plain-text part, in order.
func (m Received) Links() ([]string, error) {
	text, err := m.Text()
	if err != nil {
		return nil, err
	}
	return linkPattern.FindAllString(text, -1), nil
}
