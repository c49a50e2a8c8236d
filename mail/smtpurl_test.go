package mail

import (
	"strings"
	"testing"
)

func TestParseSMTPURL(t *testing.T) {
	for raw, want := range map[string]SMTP{
		"smtp://user:p%40ss@mail.example.com:587": {Host: "mail.example.com", Port: 587, Username: "user", Password: "p@ss", Security: StartTLS},
		"smtps://mail.example.com:465/":           {Host: "mail.example.com", Port: 465, Security: ImplicitTLS},
		"smtp://localhost:1025":                   {Host: "localhost", Port: 1025, Security: StartTLSIfOffered},
		"smtp://127.0.0.1:25":                     {Host: "127.0.0.1", Port: 25, Security: StartTLSIfOffered},
		"smtp://[::1]:25":                         {Host: "::1", Port: 25, Security: StartTLSIfOffered},
		"smtp://mailpit:1025?tls=none":            {Host: "mailpit", Port: 1025, Security: Plain},
	} {
		got, err := ParseSMTPURL(raw)
		if err != nil || got != want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"http://mail.example.com:25", "smtp://:25", "smtp:mail.example.com", "smtps://mail.example.com",
		"smtp://mail.example.com:587/relay", "smtp://mail.example.com:587#x", "smtp://mail.example.com:25?tls=None",
		"smtp://mail.example.com:25?tls=none&x=1", "smtp://mail.example.com:25?", "smtps://mail.example.com:465?tls=none",
		"smtp://mail.example.com:0", "smtp://u:hunter2@mail:port",
	} {
		_, err := ParseSMTPURL(raw)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q) accepted it", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "mail.example.com") {
			t.Errorf("ParseSMTPURL(%q): the message %q repeats the URL", raw, err)
		}
	}
}

func TestCheckAddressRefusesHeaderInjection(t *testing.T) {
	for _, ok := range []string{"ada@example.com", "Ada Lovelace <ada@example.com>"} {
		if err := CheckAddress(ok); err != nil {
			t.Errorf("CheckAddress(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ada@example.com\r\nBcc: all@example.com", "ada@example.com\nX: y", "a@example.com, b@example.com",
		"not an address", "ada@example.com\x00"} {
		if err := CheckAddress(bad); err == nil {
			t.Errorf("CheckAddress(%q) accepted it", bad)
		}
	}
}
