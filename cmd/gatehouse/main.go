// Command gatehouse runs the Gatehouse OpenID Connect provider and the
// administration commands that share its configuration.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the gatehouse command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(ctx, newRootCmd(), args, stdin, stdout, stderr)
}

// execute runs root with args and reports an error as "gatehouse: …" lines
// on stderr: one line per problem.
func execute(ctx context.Context, root *cobra.Command, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if args == nil {
		// cobra reads os.Args when given nil.
		args = []string{}
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		for _, line := range errorLines(err) {
			fmt.Fprintf(stderr, "gatehouse: %s\n", line)
		}
		return 1
	}
	return 0
}

// errorLines splits an errors.Join result into its problems and flattens
// every other error to a single line.
func errorLines(err error) []string {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		parts := joined.Unwrap()
		msgs := make([]string, 0, len(parts))
		for _, p := range parts {
			msgs = append(msgs, p.Error())
		}
		// Only a plain join reads as its parts one per line; an error that
		// wraps several with its own text (fmt.Errorf with two %w) stays whole.
		if err.Error() == strings.Join(msgs, "\n") {
			var lines []string
			for _, p := range parts {
				lines = append(lines, errorLines(p)...)
			}
			return lines
		}
	}
	return []string{oneLine(err.Error())}
}

// oneLine joins a multi-line message (such as cobra's "Did you mean this?"
// hint) into a single line.
func oneLine(msg string) string {
	return strings.Join(strings.Fields(msg), " ")
}
