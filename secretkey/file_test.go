package secretkey

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateFileCreatesOnceThenReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.key")
	first, err := LoadOrCreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	again, err := LoadOrCreateFile(path)
	if err != nil || again != first {
		t.Fatalf("second load: %v; same key: %v", err, again == first)
	}
}

func TestLoadOrCreateFileRefusesAMalformedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.key")
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreateFile(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("LoadOrCreateFile of a malformed file = %v, want an error naming the file", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "not a key\n" {
		t.Error("the malformed file was overwritten")
	}
}
