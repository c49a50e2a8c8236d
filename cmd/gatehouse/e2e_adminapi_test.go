package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-id/gatehouse/adminapi"
	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/op"
	"github.com/gatehouse-id/gatehouse/storage"
)

// adminApp is an application created with --admin-api, asking users for
// the admin scope.
func (g *keyedGatehouse) adminApp(name string) *relyingParty {
	g.t.Helper()
	rp := g.relyingParty(name)
	if _, err := g.store.DB().ExecContext(context.Background(), `UPDATE clients SET admin_api = TRUE WHERE id = $1`, rp.oauth.ClientID); err != nil {
		g.t.Fatal(err)
	}
	rp.oauth.Scopes = append(rp.oauth.Scopes, adminapi.ScopeAdmin)
	return rp
}

// serviceToken is a client-credentials token of a new service client of
// the organisation orgID, created with --admin-api.
func (g *keyedGatehouse) serviceToken(orgID string) string {
	g.t.Helper()
	secret, digest := storage.NewSecret()
	c := &storage.Client{Name: "service", SecretHash: digest, RedirectURIs: storage.StringList{"https://svc.example.com/cb"}, AdminAPI: true, OrgID: &orgID}
	if err := g.store.Clients().Create(context.Background(), c); err != nil {
		g.t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: g.issuer + "/oauth/token", Scopes: []string{adminapi.ScopeAdmin}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		g.t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

// call sends an API request with token (none when "").
func (g *keyedGatehouse) call(method, path, token, contentType, body string) (*http.Response, map[string]any) {
	g.t.Helper()
	req, _ := http.NewRequest(method, g.issuer+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp, m
}

// TestAdminAPIThroughTheWholeServer: tokens from real sign-ins and a real
// client-credentials grant; who may read and change what; step-up for
// changes (RFC 9470); RFC 9457 problems for bad input.
func TestAdminAPIThroughTheWholeServer(t *testing.T) {
	if op.ScopeAdmin != adminapi.ScopeAdmin {
		t.Fatalf("the provider grants %q, the API asks for %q", op.ScopeAdmin, adminapi.ScopeAdmin)
	}
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		ctx := context.Background()
		const pass = "correct horse battery staple"
		dir := directory.New(g.store, nil)
		opr := directory.Operator()
		acme, err := dir.CreateOrg(ctx, opr, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		beta, err := dir.CreateOrg(ctx, opr, "beta", "Beta")
		if err != nil {
			t.Fatal(err)
		}
		people := map[string]*storage.User{}
		apps := map[string]*phoneApp{}
		for name, role := range map[string]string{"owner": "owner", "admin": "admin", "member": "member", "outsider": ""} {
			u := g.user(name+"@example.com", pass)
			apps[name] = g.enrollApp(u)
			if role != "" {
				if _, err := dir.AddMember(ctx, opr, "acme", u.Email, role); err != nil {
					t.Fatal(err)
				}
			}
			people[name] = u
		}
		app := g.adminApp("hr")
		tokens := map[string]string{}
		for name, u := range people {
			b := newBrowser(t)
			f, p := app.start(b)
			tokens[name] = f.finish(signInWithApp(t, b, p, u.Email, pass, apps[name])).oauth.AccessToken
		}
		tokens["service of acme"] = g.serviceToken(acme.ID)
		tokens["service of beta"] = g.serviceToken(beta.ID)
		plain := g.relyingParty("plain")
		b := newBrowser(t)
		f, p := plain.start(b, oauth2.SetAuthURLParam("scope", oidc.ScopeOpenID+" "+adminapi.ScopeAdmin))
		tokens["a client without --admin-api"] = f.finish(signInWithApp(t, b, p, people["owner"].Email, pass, apps["owner"])).oauth.AccessToken

		for name, want := range map[string]int{"owner": 200, "admin": 200, "member": 403, "outsider": 404, "service of acme": 200,
			"service of beta": 404, "a client without --admin-api": 403} {
			for _, path := range []string{"/api/v1/orgs/acme/compliance", "/api/v1/orgs/acme/members", "/api/v1/orgs/acme/policy"} {
				resp, body := g.call("GET", path, tokens[name], "", "")
				if resp.StatusCode != want {
					t.Errorf("%s GET %s: %d %v", name, path, resp.StatusCode, body)
				}
				if want != 200 && resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s GET %s: a %d without problem details", name, path, resp.StatusCode)
				}
			}
		}
		for name, token := range map[string]string{"no token": "", "a bad token": "not-a-token"} {
			resp, _ := g.call("GET", "/api/v1/orgs/acme/compliance", token, "", "")
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		}
		if resp, _ := g.call("GET", "/api/v1/orgs/nope/compliance", tokens["owner"], "", ""); resp.StatusCode != 404 {
			t.Errorf("an unknown organisation: %d", resp.StatusCode)
		}

		_, comp := g.call("GET", "/api/v1/orgs/acme/compliance", tokens["admin"], "", "")
		if comp["members"] != float64(3) || comp["enrolled"] != float64(3) {
			t.Errorf("compliance %v", comp)
		}
		_, page1 := g.call("GET", "/api/v1/orgs/acme/members?limit=2", tokens["admin"], "", "")
		next, _ := page1["next"].(string)
		_, page2 := g.call("GET", "/api/v1/orgs/acme/members?limit=2&cursor="+next, tokens["admin"], "", "")
		if len(page1["members"].([]any)) != 2 || next == "" || len(page2["members"].([]any)) != 1 || page2["next"] != "" {
			t.Errorf("pages %v / %v", page1, page2)
		}
		for _, bad := range []string{"cursor=%%%", "cursor=!!", "status=all", "role=king", "limit=0"} {
			if resp, body := g.call("GET", "/api/v1/orgs/acme/members?"+bad, tokens["admin"], "", ""); resp.StatusCode != 400 && !(bad == "cursor=%%%" && resp.StatusCode == 200) {
				t.Errorf("%s: %d %v", bad, resp.StatusCode, body)
			}
		}

		// Changes: fresh sign-ins with a second factor, or the service client.
		policy := `{"require_mfa": true, "grace_period_seconds": 604800, "allowed_factors": ["totp"]}`
		resp, body := g.call("PUT", "/api/v1/orgs/acme/policy", tokens["admin"], "application/json", policy)
		if resp.StatusCode != 200 || body["require_mfa"] != true || body["grace_period_seconds"] != float64(604800) {
			t.Fatalf("PUT policy: %d %v", resp.StatusCode, body)
		}
		if resp, body := g.call("PUT", "/api/v1/orgs/acme/policy", tokens["service of acme"], "application/json", `{"require_mfa": false}`); resp.StatusCode != 200 {
			t.Errorf("the service client's PUT: %d %v", resp.StatusCode, body)
		}
		es, err := g.store.Audit().List(ctx, storage.AuditFilter{OrgID: acme.ID, Type: string(directory.EventPolicyChanged)})
		if err != nil || len(es) != 2 || es[0].ActorID != "" || es[0].ClientID == "" || es[1].ActorID != people["admin"].ID {
			t.Errorf("policy events %+v (%v)", es, err)
		}
		// A sign-in older than ten minutes must step up.
		if _, err := g.store.DB().ExecContext(ctx, `UPDATE tokens SET auth_time = $1 WHERE subject = $2`, time.Now().Add(-20*time.Minute).UTC(), people["owner"].ID); err != nil {
			t.Fatal(err)
		}
		resp, _ = g.call("PUT", "/api/v1/orgs/acme/policy", tokens["owner"], "application/json", policy)
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != 401 || !strings.Contains(challenge, `error="insufficient_user_authentication"`) ||
			!strings.Contains(challenge, `acr_values="urn:gatehouse:acr:mfa"`) || !strings.Contains(challenge, "max_age=600") {
			t.Errorf("a stale sign-in's change: %d %q", resp.StatusCode, challenge)
		}
		if resp, _ := g.call("GET", "/api/v1/orgs/acme/policy", tokens["owner"], "", ""); resp.StatusCode != 200 {
			t.Errorf("a stale sign-in still reads: %d", resp.StatusCode)
		}

		// Bad input: problems naming the field, nothing changed.
		for name, c := range map[string]struct {
			ctype, body string
			want        int
			field       string
		}{
			"an unknown field":  {"application/json", `{"require_mfa": true, "sms": true}`, 400, ""},
			"not JSON":          {"application/json", `{"require_mfa": tru`, 400, ""},
			"two values":        {"application/json", `{} {}`, 400, ""},
			"another type":      {"text/plain", policy, 415, ""},
			"too large":         {"application/json", `{"allowed_factors": ["` + strings.Repeat("x", 70<<10) + `"]}`, 413, ""},
			"an unknown factor": {"application/json", `{"require_mfa": true, "allowed_factors": ["sms"]}`, 400, "allowed_factors"},
			"keys alone":        {"application/json", `{"require_mfa": true, "allowed_factors": ["webauthn"]}`, 400, "allowed_factors"},
			"grace and date":    {"application/json", `{"require_mfa": true, "grace_period_seconds": 60, "required_from": "2027-01-31T00:00:00Z"}`, 400, "grace_period_seconds"},
			"an absurd grace":   {"application/json", `{"require_mfa": true, "grace_period_seconds": -5}`, 400, "grace_period_seconds"},
		} {
			resp, body := g.call("PUT", "/api/v1/orgs/acme/policy", tokens["service of acme"], c.ctype, c.body)
			if resp.StatusCode != c.want || resp.Header.Get("Content-Type") != "application/problem+json" || (c.field != "" && body["field"] != c.field) {
				t.Errorf("%s: %d %v", name, resp.StatusCode, body)
			}
		}
		if o, _ := g.store.Orgs().GetBySlug(ctx, "acme"); o.RequireMFA {
			t.Error("a refused change changed the policy")
		}
	})
}
