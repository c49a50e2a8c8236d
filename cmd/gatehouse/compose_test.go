package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse-id/gatehouse/mail"
)

// TestComposeConfigurationLoads reads the GATEHOUSE_* settings that
// docker-compose.yml gives the server and loads them as the server would,
// so the file a developer starts from is never out of step with the rules.
func TestComposeConfigurationLoads(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	env := compose.Services["gatehouse"].Environment
	if len(env) == 0 {
		t.Fatal("docker-compose.yml gives the gatehouse service no environment")
	}
	// ${NAME:?message} is compose's "required from the caller's environment".
	required := regexp.MustCompile(`^\$\{([A-Z_]+):\?[^}]*\}$`)
	for name, value := range env {
		if !strings.HasPrefix(name, "GATEHOUSE_") {
			continue
		}
		if m := required.FindStringSubmatch(value); m != nil {
			value = testKey // the caller's secret key
		}
		t.Setenv(name, value)
	}
	cfg := mustLoad(t)
	if !cfg.IsPostgres() || cfg.Issuer != "http://localhost:8080" || cfg.MailFrom != "gatehouse@localhost" {
		t.Errorf("compose's configuration loaded as %+v", cfg)
	}
	smtp, err := mail.ParseSMTPURL(cfg.SMTPURL)
	if err != nil || smtp.Host != "mailpit" || smtp.Port != 1025 || smtp.Security != mail.Plain {
		t.Errorf("compose's --smtp-url %+v, %v: want plain SMTP to mailpit:1025 (Mailpit offers no TLS)", smtp, err)
	}
}
