package adminapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-id/gatehouse/adminapi"
	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
	"github.com/gatehouse-id/gatehouse/storage/storagetest"
)

// noTokens verifies no token; the routes are only listed here.
type noTokens struct{}

func (noTokens) VerifyAccessToken(context.Context, string) (*storage.Token, error) { return nil, nil }

// TestTheOpenAPIDocumentDescribesEveryRoute: the document is valid OpenAPI
// 3 and has an operation for each route the API serves, and no other.
func TestTheOpenAPIDocumentDescribesEveryRoute(t *testing.T) {
	ctx := context.Background()
	doc, err := openapi3.NewLoader().LoadFromData(adminapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3: %v", err)
	}
	st := storagetest.Open(t, storagetest.SQLiteURL(t))
	api, err := adminapi.New(adminapi.Config{Store: st, Directory: directory.New(st, nil), Tokens: noTokens{}})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	api.Routes(r)
	served := map[string]bool{}
	err = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		path := strings.TrimPrefix(route, "/api/v1")
		if path == "/openapi.json" || strings.HasSuffix(path, "/*") {
			return nil
		}
		served[method+" "+path] = true
		if doc.Paths.Find(path) == nil || doc.Paths.Find(path).GetOperation(method) == nil {
			t.Errorf("%s %s is served but not in the document", method, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is in the document but not served", method, path)
			}
			for _, code := range []string{"401", "403", "404"} {
				if op.Responses.Value(code) == nil {
					t.Errorf("%s %s does not document %s", method, path, code)
				}
			}
		}
	}
}
