package mail

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// Message is one mail, rendered and ready to send.
type Message struct {
	// Kind names the message ("password_changed") for logs and metrics.
	Kind    string `json:"kind"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// ErrBadAddress refuses an address that is not one bare address, such as
// one that carries a line break to smuggle in a header.
var ErrBadAddress = errors.New("not a single email address")

// CheckAddress accepts one email address, with or without a display name,
// and nothing that could become another header line.
func CheckAddress(addr string) error {
	if addr == "" || strings.ContainsAny(addr, "\r\n\x00") {
		return fmt.Errorf("%q: %w", addr, ErrBadAddress)
	}
	list, err := mail.ParseAddressList(addr)
	if err != nil || len(list) != 1 {
		return fmt.Errorf("%q: %w", addr, ErrBadAddress)
	}
	return nil
}

func (m Message) check() error {
	if err := CheckAddress(m.To); err != nil {
		return err
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: the subject spans lines")
	}
	return nil
}
