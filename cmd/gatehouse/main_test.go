package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runRoot executes root with args and returns the exit code and output.
func runRoot(root *cobra.Command, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = execute(context.Background(), root, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// rootFailingWith is the gatehouse root with a hidden command returning err.
func rootFailingWith(err error) *cobra.Command {
	root := newRootCmd()
	root.AddCommand(&cobra.Command{
		Use:    "fail",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return err },
	})
	return root
}

func TestRunUnknownFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--bogus"}, strings.NewReader(""), &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := "gatehouse: unknown flag: --bogus\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q, want nothing (no usage dump)", out.String())
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bogus"}, strings.NewReader(""), &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := "gatehouse: unknown command \"bogus\" for \"gatehouse\"\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
}

func TestUnknownCommandWithSuggestionIsOneLine(t *testing.T) {
	root := newRootCmd()
	root.AddCommand(&cobra.Command{Use: "status", RunE: func(*cobra.Command, []string) error { return nil }})
	code, _, errOut := runRoot(root, "statsu")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := "gatehouse: unknown command \"statsu\" for \"gatehouse\" Did you mean this? status\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestRunHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--help"}, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	for _, want := range []string{"Usage:", "--secret-key", "GATEHOUSE_SECRET_KEY", "--output"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help does not mention %q:\n%s", want, out.String())
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q, want nothing", errOut.String())
	}
}

func TestRunSuccessPassesContext(t *testing.T) {
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "from main")
	var seen any
	root := newRootCmd()
	root.AddCommand(&cobra.Command{
		Use:    "ok",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			seen = cmd.Context().Value(ctxKey{})
			return nil
		},
	})
	var errOut bytes.Buffer
	if code := execute(ctx, root, []string{"ok"}, nil, &bytes.Buffer{}, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if seen != "from main" {
		t.Error("the command did not receive run's context")
	}
}

func TestJoinedErrorsPrintOneLineEach(t *testing.T) {
	err := errors.Join(errors.New("first problem"), errors.New("second problem"))
	code, _, errOut := runRoot(rootFailingWith(err), "fail")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := "gatehouse: first problem\ngatehouse: second problem\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestWrappedErrorStaysOneLine(t *testing.T) {
	err := fmt.Errorf("create user: %w", errors.Join(errors.New("email taken"), errors.New("retry later")))
	_, _, errOut := runRoot(rootFailingWith(err), "fail")
	if want := "gatehouse: create user: email taken retry later\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestConfigProblemsThroughRun(t *testing.T) {
	clearEnv(t)
	var cfg *Config
	var loadErr error
	code, _, errOut := runRoot(newLoadCmd(&cfg, &loadErr), "load-config",
		"--signing-alg", "HS256", "--log-format", "xml")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := "gatehouse: --signing-alg: \"HS256\" is not supported; use RS256 or ES256\n" +
		"gatehouse: --log-format: \"xml\" is not supported; use text or json\n"
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
}
