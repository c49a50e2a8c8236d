package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"
)

// outputFormat is the --output flag's value: text or json.
func outputFormat(cmd *cobra.Command) (string, error) {
	f := lookupFlag(cmd, flagOutput)
	if f == nil {
		return "text", nil
	}
	switch v := f.Value.String(); v {
	case "text", "json":
		return v, nil
	default:
		return "", fmt.Errorf("--%s: %q is not supported; use text or json", flagOutput, v)
	}
}

// emit prints a command's result: value as indented JSON with --output
// json, otherwise text, ending in a newline.
func emit(cmd *cobra.Command, value any, text string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // keep URLs readable: & not \u0026
		return enc.Encode(value)
	}
	if text == "" {
		return nil
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	_, err = io.WriteString(out, text)
	return err
}

// textTable lays rows out in aligned columns under header. Control
// characters in cells are replaced, so a user's name cannot break the
// table or send escape sequences to the terminal.
func textTable(header []string, rows [][]string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	writeRow := func(cells []string) {
		clean := make([]string, len(cells))
		for i, c := range cells {
			clean[i] = strings.Map(replaceControl, c)
		}
		fmt.Fprintln(w, strings.Join(clean, "\t"))
	}
	writeRow(header)
	for _, r := range rows {
		writeRow(r)
	}
	w.Flush()
	return b.String()
}

func replaceControl(r rune) rune {
	if unicode.IsControl(r) {
		return '?'
	}
	return r
}
