// Command gatehouse is the Gatehouse binary: `serve` runs the OpenID
// provider with its hosted pages; `migrate`, `user`, `org`, `client` and
// `keys` administer it from the command line. It owns configuration
// (flags, GATEHOUSE_* environment variables, YAML file) and wiring: it
// alone imports both op and ui and gives each what it needs of the other.
// Commands only parse, call an operation of package directory and print;
// the rules live there.
package main
