package ui

import (
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"

	"github.com/gatehouse-id/gatehouse/middleware"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// TestEveryPageRenders renders each required page through its typed render
// function and checks the frame every page shares.
func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	u := e.ui
	renders := map[string]func(w http.ResponseWriter, r *http.Request){
		passwordTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderPassword(w, r, http.StatusUnauthorized, passwordPage{ID: "req1", ClientName: "<Example>", Email: "a@b.c", Error: msgIncorrect})
		},
		logoutTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderLogout(w, r, logoutPage{Email: "a@b.c", ClientName: "Example", ClientID: "c1", PostLogoutRedirectURI: testLogoutURI, State: "s"})
		},
		signedOutTemplate: func(w http.ResponseWriter, r *http.Request) { u.renderSignedOut(w, r) },
		consentTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderConsent(w, r, consentPage{ID: "req1", ClientName: "<Example>", Email: "a@b.c", Scopes: []string{"See your email address"}})
		},
		selectAccountTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderSelectAccount(w, r, selectAccountPage{ID: "req1", ClientName: "<Example>", Email: "a@b.c"})
		},
		errorTemplate: func(w http.ResponseWriter, r *http.Request) { u.renderError(w, r, errUnknownRequest) },
		otpTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderOTP(w, r, http.StatusUnauthorized, otpPage{ID: "req1", ClientName: "Example", Email: "a@b.c", CodeError: msgWrongCode})
		},
		messageTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderRecoverySent(w, r, http.StatusOK, "req1", &storage.User{Email: "a@b.c"}, "Sent again.", "")
		},
		recoveryTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderRecovery(w, r, http.StatusUnauthorized, recoveryPage{ID: "req1", MaskedEmail: "a•••@b.c", CodeError: msgWrongRecoveryCode})
		},
		forgotTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderForgot(w, r, http.StatusBadRequest, forgotPage{ID: "req1", Email: "nope", EmailError: "Enter an address."})
		},
		consoleHomeTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusOK, consoleHomeTemplate, consoleHome{consolePage: consolePage{layout: u.layout(r), Slug: "acme", OrgName: "<Acme>", Section: "overview"},
				Compliance: complianceView{Policy: "two-step verification required at once"}})
		},
		consoleMembersTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusOK, consoleMembersTemplate, membersPage{consolePage: consolePage{layout: u.layout(r), Slug: "acme", OrgName: "Acme", Section: "members"},
				Members: []memberView{{Email: "a@b.c", Role: "owner", Deadline: "overdue"}}, CSVURL: "/orgs/acme/members.csv"})
		},
		consoleMemberTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusOK, consoleMemberTemplate, memberPage{consolePage: consolePage{layout: u.layout(r), Slug: "acme", OrgName: "Acme", Section: "members"},
				Member: memberView{Email: "a@b.c", Role: "member"}, ID: "u1"})
		},
		consoleAuditTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusOK, consoleAuditTemplate, auditPage{consolePage: consolePage{layout: u.layout(r), Slug: "acme", OrgName: "Acme", Section: "audit"},
				Events: []auditRow{{Time: "2026-12-02 10:00:00 UTC", Type: "mfa.reset", Actor: "a@b.c", Subject: "d@e.f", Details: "{}"}}, CSVURL: "/orgs/acme/audit.csv"})
		},
		consolePassTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusOK, consolePassTemplate, passPage{consolePage: consolePage{layout: u.layout(r), Slug: "acme", OrgName: "Acme", Section: "members"},
				Email: "a@b.c", Pass: "abcd-efgh-jkmn", Expires: "10:00 UTC on 2 December 2026", Back: "/orgs/acme/members/u1"})
		},
		consolePolicyTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusOK, consolePolicyTemplate, policyPage{consolePage: consolePage{layout: u.layout(r), Slug: "acme", OrgName: "Acme", Section: "policy"},
				Form: policyForm{Require: true, Mode: "grace", GraceDays: "7", Factors: []string{"totp"}}, Current: "required", Preview: "2 would need to set one up."})
		},
		invitationTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderInvitation(w, r, http.StatusOK, invitationPage{Token: "t", Email: "a@b.c", OrgName: "Acme", Role: "member", NewAccount: true})
		},
		accessPassTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderAccessPass(w, r, http.StatusUnauthorized, accessPassPage{ID: "req1", CodeError: msgWrongAccessPass})
		},
		keyStepTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusBadRequest, keyStepTemplate, keyStepPage{layout: u.keyLayout(r), ID: "req1", ClientName: "Example",
				Ceremony: keyCeremony{ID: "c", Options: `{"publicKey":{}}`}, Error: msgKeyGone, HasApp: true})
		},
		keyAddTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusBadRequest, keyAddTemplate, keyAddPage{layout: u.keyLayout(r), Action: "/login/enroll/key", RequestID: "req1",
				ClientName: "Example", BackURL: "/login/enroll?id=req1", Ceremony: keyCeremony{ID: "c", Options: `{"publicKey":{}}`}, Error: msgKeyNotAdded})
		},
		keyRemoveTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.render(w, r, http.StatusOK, keyRemoveTemplate, keyRemovePage{layout: u.layout(r), KeyID: "k1", Name: "<YubiKey>", Last: true})
		},
		resetTemplate: func(w http.ResponseWriter, r *http.Request) {
			u.renderReset(w, r, http.StatusBadRequest, resetPage{Token: "t", Email: "a@b.c", NewPasswordError: "Too short."})
		},
	}
	maps.Copy(renders, accountPageRenders(u))
	for _, name := range requiredPages {
		t.Run(name, func(t *testing.T) {
			render, ok := renders[name]
			if !ok {
				t.Fatalf("no render function tested for %s", name)
			}
			rec := httptest.NewRecorder()
			middleware.RequestID(http.HandlerFunc(render)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			resp := rec.Result()
			doc := page(t, resp)
			title := find(doc, byTag("title"))
			if len(title) != 1 || !strings.HasSuffix(text(title[0]), " · Gatehouse") {
				t.Errorf("title %v, want one ending in the product name", title)
			}
			if h := find(doc, byTag("header")); len(h) != 1 || text(h[0]) != "Gatehouse" {
				t.Error("the product name is not at the top")
			}
			if len(find(doc, byTag("h1"))) != 1 {
				t.Error("want exactly one h1")
			}
			links := find(doc, byTag("link"))
			if len(links) != 1 {
				t.Fatalf("%d links, want the stylesheet", len(links))
			}
			if href, _ := attr(links[0], "href"); href != e.ui.assets.url(stylesheet) {
				t.Errorf("stylesheet %q, want %q", href, e.ui.assets.url(stylesheet))
			}
			for _, script := range find(doc, byTag("script")) {
				// The one script allowed is the security keys' file.
				if src, _ := attr(script, "src"); src != e.ui.assets.url(keyScript) || script.FirstChild != nil {
					t.Errorf("script %q: inline, or not the security keys' file", src)
				}
			}
			if len(find(doc, func(n *html.Node) bool { _, ok := attr(n, "style"); return ok })) != 0 {
				t.Error("inline style, which the Content-Security-Policy blocks")
			}
		})
	}
	t.Run("text is escaped", func(t *testing.T) {
		rec := httptest.NewRecorder()
		renders[passwordTemplate](rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if body := rec.Body.String(); strings.Contains(body, "<Example>") || !strings.Contains(body, "&lt;Example&gt;") {
			t.Error("the client name was not escaped")
		}
	})
}

// TestTemplateFilesAreAllUsed keeps the required list and the folder in step.
func TestTemplateFilesAreAllUsed(t *testing.T) {
	entries, err := fs.ReadDir(templateFiles, "templates")
	must(t, err)
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	want := append([]string{layoutTemplate}, requiredPages...)
	slices.Sort(files)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Errorf("templates/ holds %v; the layout and required pages are %v", files, want)
	}
}

// TestTemplatesHaveNoInlineStyleOrScript: the CSP forbids both, so they
// would silently do nothing.
func TestTemplatesHaveNoInlineStyleOrScript(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script|<style|\sstyle=|\son[a-z]+=`)
	// The layout loads the one script file, which the policy allows.
	scriptFile := regexp.MustCompile(`<script src="\{\{\.\}\}" defer></script>`)
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFiles, path)
		if err != nil {
			return err
		}
		if m := inline.Find(scriptFile.ReplaceAll(b, nil)); m != nil {
			t.Errorf("%s: %q", path, m)
		}
		return nil
	})
	must(t, err)
}

func TestNewChecksTheTemplates(t *testing.T) {
	layout, err := fs.ReadFile(templateFiles, "templates/"+layoutTemplate)
	must(t, err)
	complete := fstest.MapFS{"templates/" + layoutTemplate: {Data: layout}}
	for _, name := range requiredPages {
		b, err := fs.ReadFile(templateFiles, "templates/"+name)
		must(t, err)
		complete["templates/"+name] = &fstest.MapFile{Data: b}
	}
	if _, err := parsePages(complete, "Gatehouse", "/static/x.css"); err != nil {
		t.Fatalf("the embedded templates do not parse: %v", err)
	}
	tests := []struct {
		name   string
		change func(fstest.MapFS)
	}{
		{"a page is missing", func(m fstest.MapFS) { delete(m, "templates/"+passwordTemplate) }},
		{"the layout is missing", func(m fstest.MapFS) { delete(m, "templates/"+layoutTemplate) }},
		{"a page does not parse", func(m fstest.MapFS) {
			m["templates/"+errorTemplate] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.Heading`)}
		}},
		{"a page has no content block", func(m fstest.MapFS) {
			m["templates/"+errorTemplate] = &fstest.MapFile{Data: []byte(`{{define "title"}}x{{end}}`)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := fstest.MapFS{}
			for k, v := range complete {
				files[k] = v
			}
			tc.change(files)
			if _, err := parsePages(files, "Gatehouse", "/static/x.css"); err == nil {
				t.Fatal("parsePages accepted broken templates")
			}
		})
	}
}

func TestStylesheet(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	resp := e.get(e.ui.assets.url(stylesheet))
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q, want text/css", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q for a versioned stylesheet, want immutable", cc)
	}
	stale := e.get("/static/" + stylesheet + "?v=old")
	if cc := stale.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q for an old version, want a short lifetime", cc)
	}
	for _, path := range []string{"/static/", "/static/nosuch.css", "/static/../templates/layout.html"} {
		if got := e.get(path).StatusCode; got != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, got)
		}
	}
}
