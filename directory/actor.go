package directory

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/storage"
)

// Channel is the way a change reached Gatehouse.
type Channel string

// The channels.
const (
	ChannelCLI     Channel = "cli"     // an operator at the command line
	ChannelSignIn  Channel = "signin"  // the hosted sign-in pages
	ChannelAccount Channel = "account" // the user's own account pages
	ChannelAPI     Channel = "api"     // the admin API
)

// Actor is who makes a change, from where and through which channel.
type Actor struct {
	// UserID is the signed-in user acting, or "" (an operator, or nobody
	// known yet, as at a failed sign-in).
	UserID    string
	IP        string
	UserAgent string
	// ClientID is the application the change came through, if any.
	ClientID string
	Channel  Channel
}

// Operator is the actor of the command line.
func Operator() Actor { return Actor{Channel: ChannelCLI} }

// auditID is what the audit log names as the actor: the user, or "cli" for
// an operator.
func (a Actor) auditID() string {
	if a.UserID == "" && a.Channel == ChannelCLI {
		return string(ChannelCLI)
	}
	return a.UserID
}

// maxUserAgent bounds the user agent kept per event.
const maxUserAgent = 256

// Event is one audit event to record.
type Event struct {
	Type      EventType
	SubjectID string // the user the event is about
	OrgID     string
	ClientID  string // defaults to the actor's
	// Details must never hold a secret; nil or a value that marshals to a
	// JSON object.
	Details any
}

// Record appends e to the audit log as done by actor. Call it with the
// transaction that makes the change, so both happen or neither does.
func Record(ctx context.Context, tx *storage.Store, actor Actor, e Event) error {
	row := storage.AuditEvent{
		Type:      string(e.Type),
		ActorID:   actor.auditID(),
		SubjectID: e.SubjectID,
		OrgID:     e.OrgID,
		ClientID:  e.ClientID,
		IP:        actor.IP,
		UserAgent: clip(actor.UserAgent, maxUserAgent),
	}
	if row.ClientID == "" {
		row.ClientID = actor.ClientID
	}
	if err := tx.Audit().Record(ctx, &row, e.Details); err != nil {
		return fmt.Errorf("record %s: %w", e.Type, err)
	}
	return nil
}

// CleanUserAgent is a user agent as Gatehouse keeps it: valid UTF-8,
// without control characters, at most 256 bytes.
func CleanUserAgent(ua string) string { return clip(ua, maxUserAgent) }

// clip makes s valid UTF-8 without control characters and at most n bytes
// long, cut between characters, so any database accepts it.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
