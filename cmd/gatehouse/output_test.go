package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/spf13/cobra"
)

type clientView struct {
	ID          string   `json:"id"`
	RedirectURI []string `json:"redirect_uris"`
}

// runEmit runs a hidden "show" command that emits a value and its text form.
func runEmit(t *testing.T, text string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRootCmd()
	root.AddCommand(&cobra.Command{
		Use:    "show",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := clientView{ID: "c1", RedirectURI: []string{"https://app.example.com/cb?a=1&b=2"}}
			return emit(cmd, v, text)
		},
	})
	var out, errOut bytes.Buffer
	code = execute(context.Background(), root, append([]string{"show"}, args...), nil, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestEmitText(t *testing.T) {
	tests := []struct{ text, want string }{
		{"client c1", "client c1\n"},
		{"client c1\n", "client c1\n"},
		{"a\nb", "a\nb\n"},
		{"", ""},
	}
	for _, tt := range tests {
		code, out, errOut := runEmit(t, tt.text)
		if code != 0 || out != tt.want || errOut != "" {
			t.Errorf("text %q: exit %d, stdout %q, stderr %q; want 0, %q, nothing", tt.text, code, out, errOut, tt.want)
		}
	}
}

func TestEmitJSON(t *testing.T) {
	code, out, errOut := runEmit(t, "client c1", "--output", "json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := `{
  "id": "c1",
  "redirect_uris": [
    "https://app.example.com/cb?a=1&b=2"
  ]
}
`
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	var back clientView
	if err := json.Unmarshal([]byte(out), &back); err != nil || back.ID != "c1" {
		t.Errorf("output does not decode back: %v", err)
	}
}

func TestEmitUnknownFormat(t *testing.T) {
	code, out, errOut := runEmit(t, "client c1", "--output", "yaml")
	if code != 1 || out != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing printed", code, out)
	}
	if want := "gatehouse: --output: \"yaml\" is not supported; use text or json\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestTextTable(t *testing.T) {
	got := textTable(
		[]string{"ID", "EMAIL", "STATUS"},
		[][]string{
			{"1", "ada@example.com", "active"},
			{"22", "grace.hopper@example.com", "disabled"},
		},
	)
	want := "" +
		"ID  EMAIL                     STATUS\n" +
		"1   ada@example.com           active\n" +
		"22  grace.hopper@example.com  disabled\n"
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestTextTableNeutralisesControlCharacters(t *testing.T) {
	got := textTable([]string{"NAME", "EMAIL"}, [][]string{{"Eve\n2\tadmin\x1b[2J", "eve@example.com"}})
	want := "" +
		"NAME             EMAIL\n" +
		"Eve?2?admin?[2J  eve@example.com\n"
	if got != want {
		t.Errorf("table:\n%q\nwant:\n%q", got, want)
	}
}
