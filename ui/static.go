package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var staticFiles embed.FS

const stylesheet = "gatehouse.css"

// assets serves the embedded static files. Pages link a file with its
// content digest in the query, so browsers may keep it for a year and still
// fetch the new one after an upgrade.
type assets struct {
	files    fs.FS
	versions map[string]string // file name → digest prefix
}

func loadAssets() (*assets, error) {
	files, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("ui: static files: %w", err)
	}
	a := &assets{files: files, versions: map[string]string{}}
	err = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.versions[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: static files: %w", err)
	}
	if _, ok := a.versions[stylesheet]; !ok {
		return nil, fmt.Errorf("ui: the stylesheet static/%s is missing", stylesheet)
	}
	return a, nil
}

// url is the address pages link name with.
func (a *assets) url(name string) string {
	return "/static/" + name + "?v=" + a.versions[name]
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	version, ok := a.versions[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	http.ServeFileFS(w, r, a.files, name)
}

// favicon is what browsers ask for at /favicon.ico, whatever page they are
// on: the brand mark (PNG data, which every browser takes there).
const favicon = "favicon.png"

func (a *assets) serveFavicon(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(a.files, favicon)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
}
