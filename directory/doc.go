// Package directory holds the operations on Gatehouse's users,
// organisations, memberships, policies, clients and second factors. The
// command line, the hosted pages and every later entry point call the same
// operation for the same change, so each rule has one home: an operation
// validates its input, runs in one transaction, records its audit event and
// hands the notice a user should get to the Notifier, inside that same
// transaction.
//
// Every operation takes an Actor (who, from which address and user agent,
// through which channel) and returns typed errors (the sentinels in
// errors.go and *InvalidError) that each caller turns into its own words:
// a flag name on the command line, a field message on a page.
//
// The package must not speak HTTP or print: callers own their messages. It
// may import mail, mfa, password and storage, never op, ui or cmd. Its event list
// (events.go) is the one list of audit event types.
package directory
