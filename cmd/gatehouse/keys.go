package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/op/signing"
	"github.com/gatehouse-id/gatehouse/secretkey"
	"github.com/gatehouse-id/gatehouse/storage"
)

func newKeysCmd() *cobra.Command {
	return groupCmd("keys", "Manage the token signing keys",
		newKeysRotateCmd(),
		newKeysListCmd(),
	)
}

// newSigningManager returns the signing key manager for cfg. Old keys stay
// published as long as the longest-lived token they may have signed.
func newSigningManager(st *storage.Store, cfg *Config, key secretkey.Key) *signing.Manager {
	return signing.New(st, key, cfg.SigningAlg, signing.Options{
		TokenLifetime: max(cfg.IDTokenTTL, cfg.AccessTokenTTL),
	})
}

func newKeysRotateCmd() *cobra.Command {
	var now bool
	cmd := &cobra.Command{
		Use:   "rotate [--now]",
		Short: "Publish a new signing key",
		Long: "Publishes a new signing key at once, with the algorithm of --signing-alg, or without it the\n" +
			"algorithm of the current key. It becomes\n" +
			"the active signing key once the /keys cache lifetime (" + signing.DefaultCacheMaxAge.String() + ") has passed, so\n" +
			"relying parties already hold it, or at once with --now (for a compromised key).\n" +
			"Older keys stay published until every token they signed has expired.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runKeysRotate(cmd, now) },
	}
	cmd.Flags().BoolVar(&now, "now", false, "sign with the new key at once (for a compromised key)")
	return cmd
}

type rotatedKey struct {
	KID        string    `json:"kid"`
	Alg        string    `json:"alg"`
	Generation int64     `json:"generation"`
	ActiveFrom time.Time `json:"active_from"`
	Now        bool      `json:"now"`
	// OlderKeysRetireAt is when the keys this one replaces leave /keys;
	// null when there were none.
	OlderKeysRetireAt *time.Time `json:"older_keys_retire_at"`
}

func runKeysRotate(cmd *cobra.Command, now bool) error {
	st, cfg, key, err := openKeyedStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := cmd.Context()
	if !cfg.SigningAlgSet {
		// Without --signing-alg, keep the algorithm the servers sign with.
		alg, err := signing.NewestAlg(ctx, st)
		if err != nil {
			return err
		}
		if alg != "" {
			cfg.SigningAlg = alg
		}
	}
	k, err := newSigningManager(st, cfg, key).Rotate(ctx, now)
	if err != nil {
		return err
	}
	err = directory.New(st, nil).RecordKeyRotated(ctx, directory.Operator(), k.ID, k.Alg, now)
	if err != nil {
		return fmt.Errorf("the key %s was rotated, but %w", k.ID, err)
	}
	infos, err := signing.List(ctx, st, time.Now())
	if err != nil {
		return err
	}
	r := rotatedKey{KID: k.ID, Alg: k.Alg, Generation: k.Generation, ActiveFrom: k.ActiveFrom, Now: now}
	// The first key of a database signs at once, with or without --now.
	signsNow := !k.ActiveFrom.After(time.Now())
	for _, info := range infos {
		if info.Generation < k.Generation && info.Status != signing.StatusRetired && info.RetiredAt != nil {
			if r.OlderKeysRetireAt == nil || info.RetiredAt.After(*r.OlderKeysRetireAt) {
				r.OlderKeysRetireAt = info.RetiredAt
			}
		}
	}
	return emit(cmd, r, r.text(signsNow))
}

func (r rotatedKey) text(signsNow bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Published signing key %s (%s, generation %d).\n", r.KID, r.Alg, r.Generation)
	if signsNow {
		b.WriteString("It signs new tokens from now on; running servers switch to it within a minute.\n")
	} else {
		fmt.Fprintf(&b, "It becomes the active signing key at %s, when relying parties' cached copies of /keys include it.\n",
			formatTime(r.ActiveFrom))
	}
	if r.OlderKeysRetireAt != nil {
		fmt.Fprintf(&b, "Older keys stay published until %s, when every token they signed has expired.\n",
			formatTime(*r.OlderKeysRetireAt))
	}
	return b.String()
}

func newKeysListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the signing keys and which one signs",
		Args:  cobra.NoArgs,
		RunE:  runKeysList,
	}
}

// keyView is a signing key as commands print it: never its private part.
type keyView struct {
	KID        string     `json:"kid"`
	Alg        string     `json:"alg"`
	Generation int64      `json:"generation"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ActiveFrom time.Time  `json:"active_from"`
	RetiredAt  *time.Time `json:"retired_at"`
}

func runKeysList(cmd *cobra.Command, _ []string) error {
	st, _, err := openStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	infos, err := signing.List(cmd.Context(), st, time.Now())
	if err != nil {
		return err
	}
	views := make([]keyView, 0, len(infos))
	rows := make([][]string, 0, len(infos))
	for _, info := range infos {
		v := keyView{KID: info.ID, Alg: info.Alg, Generation: info.Generation, Status: string(info.Status),
			CreatedAt: info.CreatedAt, ActiveFrom: info.ActiveFrom, RetiredAt: info.RetiredAt}
		views = append(views, v)
		retired := "-"
		if v.RetiredAt != nil {
			retired = formatTime(*v.RetiredAt)
		}
		rows = append(rows, []string{v.KID, v.Alg, strconv.FormatInt(v.Generation, 10), v.Status, formatTime(v.ActiveFrom), retired})
	}
	text := "No signing keys yet; gatehouse serve creates the first one when it starts."
	if len(views) > 0 {
		text = textTable([]string{"KID", "ALG", "GENERATION", "STATUS", "ACTIVE FROM", "RETIRED AT"}, rows)
	}
	return emit(cmd, views, text)
}

// formatTime shows a time in UTC to the second.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
