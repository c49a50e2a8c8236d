// Command gatehouse is the Gatehouse binary: `serve` runs the OpenID
// provider with its hosted pages; `migrate`, `user`, `org`, `client` and
// `keys` administer it from the command line. It owns configuration
// (flags, GATEHOUSE_* environment variables, YAML file) and wiring; the
// behaviour lives in the op, ui, mfa and storage packages.
package main
