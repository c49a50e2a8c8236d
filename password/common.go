package password

import (
	_ "embed"
	"strings"
	"sync"
)

// commonList holds passwords of at least MinLength characters that people
// choose so often that attackers try them first: one per line, lower case.
//
//go:embed common.txt
var commonList string

// commonPasswords is the list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	lines := strings.Split(commonList, "\n")
	set := make(map[string]bool, len(lines))
	for _, line := range lines {
		if line = strings.TrimSpace(line); line != "" {
			set[line] = true
		}
	}
	return set
})
