package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/gatehouse-id/gatehouse/"

// ownImports lists, per package of the module, the packages of the module
// it imports (tests included when withTests), without the module path.
func ownImports(t *testing.T, withTests bool) map[string][]string {
	t.Helper()
	format := `{{.ImportPath}} {{join .Imports " "}}`
	if withTests {
		format += ` {{join .TestImports " "}} {{join .XTestImports " "}}`
	}
	out, err := exec.Command("go", "list", "-f", format, modulePath+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(fields[0], modulePath)
		graph[pkg] = []string{}
		for _, imp := range fields[1:] {
			if own, ok := strings.CutPrefix(imp, modulePath); ok && own != pkg && !slices.Contains(graph[pkg], own) {
				graph[pkg] = append(graph[pkg], own)
			}
		}
	}
	return graph
}

// TestImportGraph keeps the dependencies pointing the one way each
// package's doc.go describes: cmd → ui, op → directory → mail, mfa,
// password, storage; the leaves import nothing of ours.
func TestImportGraph(t *testing.T) {
	allowed := map[string][]string{
		"mfa":                 {},
		"password":            {},
		"secretkey":           {},
		"middleware":          {},
		"migrations":          {},
		"storage":             {"mfa", "migrations"},
		"storage/storagetest": {"mfa", "storage"},
		"directory":           {"mail", "mfa", "password", "storage"},
		"mail":                {"storage"},
		"mail/mailtest":       {},
		"adminapi":            {"directory", "mfa", "middleware", "storage"},
	}
	graph := ownImports(t, false)
	for _, must := range []string{"mfa", "mfa/totp", "directory", "op", "ui", "storage", "cmd/gatehouse"} {
		if _, ok := graph[must]; !ok {
			t.Fatalf("go list did not list package %s: %v", must, graph)
		}
	}
	for pkg, imports := range graph {
		for _, imp := range imports {
			switch {
			case strings.HasPrefix(imp, "cmd/"):
				t.Errorf("%s imports %s: no package imports a command", pkg, imp)
			case strings.HasPrefix(pkg, "mfa/") && imp != "mfa":
				t.Errorf("%s imports %s: a factor imports only mfa", pkg, imp)
			case allowed[pkg] != nil && !slices.Contains(allowed[pkg], imp):
				t.Errorf("%s imports %s; it may import only %v", pkg, imp, allowed[pkg])
			}
		}
	}
	// The provider and the hosted pages meet through storage and what main
	// gives them, in their tests too.
	for pkg, imports := range ownImports(t, true) {
		for _, pair := range [][2]string{{"op", "ui"}, {"ui", "op"}, {"adminapi", "op"}, {"adminapi", "ui"}, {"op", "adminapi"}, {"ui", "adminapi"}} {
			if (pkg == pair[0] || strings.HasPrefix(pkg, pair[0]+"/")) && slices.ContainsFunc(imports, func(imp string) bool {
				return imp == pair[1] || strings.HasPrefix(imp, pair[1]+"/")
			}) {
				t.Errorf("%s imports %s", pkg, pair[1])
			}
		}
	}
}
