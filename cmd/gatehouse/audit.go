package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/storage"
)

func newAuditCmd() *cobra.Command {
	return groupCmd("audit", "Read the audit log", newAuditListCmd())
}

// auditEntry is one event as the command prints it.
type auditEntry struct {
	ID        int64           `json:"id"`
	Time      time.Time       `json:"time"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Subject   string          `json:"subject,omitempty"`
	Org       string          `json:"org,omitempty"`
	Client    string          `json:"client,omitempty"`
	IP        string          `json:"ip,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	Details   json.RawMessage `json:"details"`
}

func newAuditListCmd() *cobra.Command {
	var org, email, typ, since string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--org S] [--user E] [--type T] [--since DATE] [--limit N]",
		Short: "List audit events, newest first",
		Long: "Lists the audit log, newest first: sign-ins, second factors, recoveries, policy and\n" +
			"membership changes, with who did it, from where and what changed. --since takes a date\n" +
			"(YYYY-MM-DD, UTC) or a duration back from now (like 24h).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := storage.AuditFilter{Type: typ, Limit: limit}
			if limit < 1 || limit > 500 {
				return fmt.Errorf("--limit %d must be between 1 and 500", limit)
			}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			var entries []auditEntry
			err := withStore(cmd, func(ctx context.Context, st *storage.Store) error {
				if org != "" {
					o, err := st.Orgs().GetBySlug(ctx, org)
					if err != nil {
						return subject{slug: org}.explain(asDirectory(err, directory.ErrNoOrg))
					}
					f.OrgID = o.ID
				}
				if email != "" {
					u, err := st.Users().GetByEmail(ctx, email)
					if err != nil {
						return subject{email: email}.explain(asDirectory(err, directory.ErrNoUser))
					}
					f.SubjectID = u.ID
				}
				es, err := st.Audit().List(ctx, f)
				if err != nil {
					return err
				}
				entries = make([]auditEntry, 0, len(es))
				for _, e := range es {
					entries = append(entries, auditEntry{ID: e.ID, Time: e.CreatedAt.UTC(), Type: e.Type, Actor: e.ActorID,
						Subject: e.SubjectID, Org: e.OrgID, Client: e.ClientID, IP: e.IP, UserAgent: e.UserAgent, Details: json.RawMessage(e.Details)})
				}
				return nil
			})
			if err != nil {
				return err
			}
			var b strings.Builder
			for _, e := range entries {
				fmt.Fprintf(&b, "%s  %-32s actor=%s", e.Time.Format(time.RFC3339), e.Type, orDash(e.Actor))
				if e.Subject != "" {
					fmt.Fprintf(&b, " subject=%s", e.Subject)
				}
				if e.IP != "" {
					fmt.Fprintf(&b, " ip=%s", e.IP)
				}
				fmt.Fprintf(&b, " %s\n", e.Details)
			}
			if len(entries) == 0 {
				b.WriteString("No audit events match.\n")
			}
			return emit(cmd, entries, b.String())
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "only events of this organisation (`slug`)")
	cmd.Flags().StringVar(&email, "user", "", "only events about this user (`email`)")
	cmd.Flags().StringVar(&typ, "type", "", "only events of this `type` (like mfa.reset)")
	cmd.Flags().StringVar(&since, "since", "", "only events from this `date` (YYYY-MM-DD) or this long ago (24h)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many `events` (up to 500)")
	return cmd
}

// parseSince reads --since: a date (UTC) or a duration back from now.
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, v, time.UTC); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q is neither a date (YYYY-MM-DD) nor a duration (like 24h)", v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// asDirectory turns storage's not-found into the directory's error, so
// that subject.explain names the flag's value.
func asDirectory(err, notFound error) error {
	if err == storage.ErrNotFound {
		return notFound
	}
	return err
}
