package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
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

// apiRouter finds the operation of a request in the API's OpenAPI
// document, served from this server.
func (g *keyedGatehouse) apiRouter() routers.Router {
	g.t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(adminapi.OpenAPI)
	if err != nil {
		g.t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: g.issuer + "/api/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		g.t.Fatal(err)
	}
	return router
}

// call sends an API request with token (none when ""), and checks that
// the operation and its answer are as the OpenAPI document says.
func (g *keyedGatehouse) call(method, path, token, contentType, body string) (*http.Response, map[string]any) {
	g.t.Helper()
	if g.router == nil {
		g.router = g.apiRouter()
	}
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
	route, params, err := g.router.FindRoute(req)
	if err != nil {
		g.t.Errorf("%s %s is not in the OpenAPI document: %v", method, path, err)
	} else if resp.StatusCode != http.StatusRequestEntityTooLarge {
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(b)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			g.t.Errorf("%s %s answered %d, which the OpenAPI document does not describe: %v", method, path, resp.StatusCode, err)
		}
	}
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
		env := newAdminAPIEnv(t, g)
		people, tokens, acme := env.people, env.tokens, env.acme
		for name, want := range map[string]int{"owner": 200, "admin": 200, "member": 403, "outsider": 404, "service of acme": 200,
			"service of beta": 404, "a client without --admin-api": 403} {
			for _, path := range []string{"/api/v1/orgs/acme/compliance", "/api/v1/orgs/acme/members", "/api/v1/orgs/acme/policy", "/api/v1/orgs/acme/audit"} {
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
		for _, bad := range []string{"cursor=%%%", "cursor=!!", "cursor=AA", "email=a%00b", "status=all", "role=king", "limit=0"} {
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
		member := "/api/v1/orgs/acme/members/" + people["member"].ID
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/v1/orgs/acme/invitations", `{"email": "x@example.com", "role": "member"}`},
			{"PUT", member + "/role", `{"role": "admin"}`},
			{"POST", member + "/access-pass", `{}`},
			{"POST", member + "/reset-mfa", ""},
			{"DELETE", member, ""},
		} {
			resp, _ := g.call(c.method, c.path, tokens["owner"], "application/json", c.body)
			if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_user_authentication") {
				t.Errorf("a stale sign-in's %s %s: %d", c.method, c.path, resp.StatusCode)
			}
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

// adminAPIEnv is an organisation acme (owner, admin, member; an outsider
// besides), another beta, and tokens: each person's from a sign-in with
// their app through an --admin-api client, service clients of acme and of
// beta, and a token from a client without --admin-api.
type adminAPIEnv struct {
	people     map[string]*storage.User
	apps       map[string]*phoneApp
	tokens     map[string]string
	acme, beta *storage.Org
	dir        *directory.Directory
}

func newAdminAPIEnv(t *testing.T, g *keyedGatehouse) *adminAPIEnv {
	ctx := context.Background()
	const pass = "correct horse battery staple"
	e := &adminAPIEnv{people: map[string]*storage.User{}, apps: map[string]*phoneApp{}, tokens: map[string]string{}, dir: directory.New(g.store, nil)}
	opr := directory.Operator()
	var err error
	if e.acme, err = e.dir.CreateOrg(ctx, opr, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	if e.beta, err = e.dir.CreateOrg(ctx, opr, "beta", "Beta"); err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]string{"owner": "owner", "admin": "admin", "member": "member", "outsider": ""} {
		u := g.user(name+"@example.com", pass)
		e.apps[name] = g.enrollApp(u)
		if role != "" {
			if _, err := e.dir.AddMember(ctx, opr, "acme", u.Email, role); err != nil {
				t.Fatal(err)
			}
		}
		e.people[name] = u
	}
	app := g.adminApp("hr")
	for name, u := range e.people {
		b := newBrowser(t)
		f, p := app.start(b)
		e.tokens[name] = f.finish(signInWithApp(t, b, p, u.Email, pass, e.apps[name])).oauth.AccessToken
	}
	e.tokens["service of acme"] = g.serviceToken(e.acme.ID)
	e.tokens["service of beta"] = g.serviceToken(e.beta.ID)
	plain := g.relyingParty("plain")
	b := newBrowser(t)
	f, p := plain.start(b, oauth2.SetAuthURLParam("scope", oidc.ScopeOpenID+" "+adminapi.ScopeAdmin))
	e.tokens["a client without --admin-api"] = f.finish(signInWithApp(t, b, p, e.people["owner"].Email, pass, e.apps["owner"])).oauth.AccessToken
	return e
}

// TestAdminAPIMembersAndHelp: invitations, roles, removal, a temporary
// access pass and a reset through the API, with the console's guard
// rails; the audit log; pages that stay stable while members are added.
func TestAdminAPIMembersAndHelp(t *testing.T) {
	eachKeyedGatehouse(t, func(t *testing.T, g *keyedGatehouse) {
		ctx := context.Background()
		env := newAdminAPIEnv(t, g)
		people, tokens := env.people, env.tokens
		const ctype = "application/json"
		m := func(name string) string { return "/api/v1/orgs/acme/members/" + people[name].ID }

		// Writes: owners, admins and the organisation's service client only.
		for name, want := range map[string]int{"member": 403, "outsider": 404, "service of beta": 404} {
			for _, c := range []struct{ method, path, body string }{
				{"POST", "/api/v1/orgs/acme/invitations", `{"email": "x@example.com", "role": "member"}`},
				{"PUT", m("member") + "/role", `{"role": "admin"}`},
				{"POST", m("member") + "/access-pass", `{}`},
				{"POST", m("member") + "/reset-mfa", ""},
				{"DELETE", m("member"), ""},
			} {
				if resp, body := g.call(c.method, c.path, tokens[name], ctype, c.body); resp.StatusCode != want {
					t.Errorf("%s %s %s: %d %v", name, c.method, c.path, resp.StatusCode, body)
				}
			}
		}

		if resp, body := g.call("POST", "/api/v1/orgs/acme/invitations", tokens["admin"], ctype, `{"email": "New@Example.com", "role": "member"}`); resp.StatusCode != 202 || body["email"] != "new@example.com" {
			t.Errorf("invite: %d %v", resp.StatusCode, body)
		}
		for name, c := range map[string]struct {
			body, field string
			want        int
		}{
			"a malformed address":  {`{"email": "nope", "role": "member"}`, "email", 400},
			"an unknown role":      {`{"email": "y@example.com", "role": "king"}`, "role", 400},
			"an owner by an admin": {`{"email": "y@example.com", "role": "owner"}`, "role", 403},
			"a member":             {`{"email": "member@example.com", "role": "member"}`, "email", 409},
		} {
			if resp, body := g.call("POST", "/api/v1/orgs/acme/invitations", tokens["admin"], ctype, c.body); resp.StatusCode != c.want || body["field"] != c.field {
				t.Errorf("%s: %d %v", name, resp.StatusCode, body)
			}
		}
		if resp, body := g.call("PUT", m("owner")+"/role", tokens["admin"], ctype, `{"role": "member"}`); resp.StatusCode != 403 {
			t.Errorf("an admin demoting the owner: %d %v", resp.StatusCode, body)
		}
		if resp, body := g.call("PUT", m("owner")+"/role", tokens["owner"], ctype, `{"role": "admin"}`); resp.StatusCode != 409 {
			t.Errorf("the last owner stepping down: %d %v", resp.StatusCode, body)
		}
		if resp, body := g.call("PUT", "/api/v1/orgs/acme/members/nobody/role", tokens["owner"], ctype, `{"role": "admin"}`); resp.StatusCode != 404 || body["field"] != "member" {
			t.Errorf("an unknown member: %d %v", resp.StatusCode, body)
		}
		if resp, body := g.call("POST", "/api/v1/orgs/acme/members/a%00b/reset-mfa", tokens["owner"], "", ""); resp.StatusCode != 404 {
			t.Errorf("a member id with a NUL byte: %d %v", resp.StatusCode, body)
		}
		if resp, body := g.call("GET", "/api/v1/orgs/ac%00me/compliance", tokens["owner"], "", ""); resp.StatusCode != 404 {
			t.Errorf("a slug with a NUL byte: %d %v", resp.StatusCode, body)
		}

		// Helping: a pass for the member, then a reset; never the owner by an admin.
		if resp, body := g.call("POST", m("owner")+"/access-pass", tokens["admin"], ctype, `{}`); resp.StatusCode != 403 {
			t.Errorf("an admin's pass for the owner: %d %v", resp.StatusCode, body)
		}
		if resp, body := g.call("POST", m("member")+"/access-pass", tokens["service of acme"], ctype, `{"ttl_seconds": 10}`); resp.StatusCode != 400 || body["field"] != "ttl_seconds" {
			t.Errorf("a pass of 10 seconds: %d %v", resp.StatusCode, body)
		}
		resp, body := g.call("POST", m("member")+"/access-pass", tokens["service of acme"], ctype, `{"ttl_seconds": 7200}`)
		if resp.StatusCode != 201 || len(strings.ReplaceAll(body["pass"].(string), "-", "")) != 12 {
			t.Fatalf("a pass: %d %v", resp.StatusCode, body)
		}
		if resp, body := g.call("POST", m("member")+"/reset-mfa", tokens["admin"], "", ""); resp.StatusCode != 200 || body["reset"] != true {
			t.Errorf("a reset: %d %v", resp.StatusCode, body)
		}
		if fs, _ := g.store.Factors().Confirmed(ctx, people["member"].ID); len(fs) != 0 {
			t.Error("the reset left a factor")
		}

		// The audit log, newest first, paged, by type and member.
		_, page1 := g.call("GET", "/api/v1/orgs/acme/audit?limit=2", tokens["admin"], "", "")
		next, _ := page1["next"].(string)
		_, page2 := g.call("GET", "/api/v1/orgs/acme/audit?limit=2&cursor="+next, tokens["admin"], "", "")
		first, second := page1["events"].([]any), page2["events"].([]any)
		if len(first) != 2 || len(second) == 0 || first[0].(map[string]any)["type"] != string(directory.EventFactorsReset) ||
			second[0].(map[string]any)["id"].(float64) >= first[1].(map[string]any)["id"].(float64) {
			t.Errorf("audit pages %v / %v", first, second)
		}
		_, passes := g.call("GET", "/api/v1/orgs/acme/audit?type=mfa.access_pass_issued&member="+people["member"].ID, tokens["admin"], "", "")
		if evs := passes["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["client"] == "" {
			t.Errorf("the pass in the audit log: %v", passes)
		}
		for _, bad := range []string{"cursor=abc", "cursor=-1", "limit=501", "type=a%20b", "member=a%00b"} {
			if resp, _ := g.call("GET", "/api/v1/orgs/acme/audit?"+bad, tokens["admin"], "", ""); resp.StatusCode != 400 {
				t.Errorf("audit %s: %d", bad, resp.StatusCode)
			}
		}

		// Removal, by an owner.
		if resp, _ := g.call("DELETE", m("admin"), tokens["owner"], "", ""); resp.StatusCode != 204 {
			t.Errorf("removing the admin: %d", resp.StatusCode)
		}
		if _, err := g.store.Orgs().Member(ctx, env.acme.ID, people["admin"].ID); err == nil {
			t.Error("the admin is still a member")
		}

		// Paging stays stable while members are added: every member present
		// at the start is listed once, in order.
		for i := range 6 {
			if _, err := env.dir.CreateUser(ctx, directory.Operator(), directory.NewUser{Email: fmt.Sprintf("m%02d@example.com", i), OrgSlug: "acme", Role: "member"}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		cursor := ""
		for round := 0; ; round++ {
			_, page := g.call("GET", "/api/v1/orgs/acme/members?limit=3&cursor="+cursor, tokens["owner"], "", "")
			for _, mem := range page["members"].([]any) {
				seen = append(seen, mem.(map[string]any)["email"].(string))
			}
			if _, err := env.dir.CreateUser(ctx, directory.Operator(), directory.NewUser{Email: fmt.Sprintf("zz-added%d@example.com", round), OrgSlug: "acme", Role: "member"}); err != nil {
				t.Fatal(err)
			}
			if cursor, _ = page["next"].(string); cursor == "" {
				break
			}
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] <= seen[i-1] {
				t.Fatalf("pages out of order or repeated: %v", seen)
			}
		}
		for _, want := range []string{"m00@example.com", "m05@example.com", "member@example.com", "owner@example.com"} {
			if !slices.Contains(seen, want) {
				t.Errorf("%s missing from the pages %v", want, seen)
			}
		}
	})
}
