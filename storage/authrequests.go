package storage

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"
)

// ErrCodeReused reports a second redemption of an authorization code: the
// caller must revoke every token the first redemption issued.
var ErrCodeReused = errors.New("authorization code already used")

// AuthRequest is an authorization request in flight: what the client asked
// for, and — once the sign-in steps are done — who signed in and how.
type AuthRequest struct {
	ID                  string     `db:"id"`
	ClientID            string     `db:"client_id"`
	RedirectURI         string     `db:"redirect_uri"`
	Scopes              StringList `db:"scopes"`
	State               string     `db:"state"`
	Nonce               string     `db:"nonce"`
	ResponseMode        string     `db:"response_mode"`
	CodeChallenge       string     `db:"code_challenge"`
	CodeChallengeMethod string     `db:"code_challenge_method"`
	Prompt              StringList `db:"prompt"`
	MaxAge              *int64     `db:"max_age"` // seconds; nil when not asked
	LoginHint           string     `db:"login_hint"`
	HintSubject         string     `db:"hint_subject"` // subject of a valid id_token_hint
	ACRValues           StringList `db:"acr_values"`
	Claims              string     `db:"claims"` // the claims parameter, raw JSON
	CreatedAt           time.Time  `db:"created_at"`
	ExpiresAt           time.Time  `db:"expires_at"`
	// BrowserHash is the digest of the cookie of the browser that started
	// the sign-in: no other browser may take its steps or its code. Nil for
	// requests stored before sign-ins were bound.
	BrowserHash []byte `db:"browser_hash"`
	// ClientNetwork is the address (an IPv6 /64) the request came from.
	ClientNetwork string `db:"client_network"`
	// AccountChosen: asked to select an account (prompt=select_account),
	// the user chose to continue with the signed-in one.
	AccountChosen bool `db:"account_chosen"`
	// ConsentGiven: the user allowed the client what it asked, on the
	// consent page of this request.
	ConsentGiven bool `db:"consent_given"`
	// EnrollmentDeferred: the member chose "Remind me later" for a second
	// factor an organisation will require from a date.
	EnrollmentDeferred bool `db:"enrollment_deferred"`

	// Set when the sign-in completes.
	Subject     string     `db:"subject"`
	SessionHash []byte     `db:"session_hash"`
	AuthTime    *time.Time `db:"auth_time"`
	AMR         StringList `db:"amr"`
	ACR         string     `db:"acr"`
	Done        bool       `db:"done"`

	// Set when the sign-in ends in an error the client must hear about
	// (login_required, interaction_required, access_denied).
	ErrorCode        string `db:"error_code"`
	ErrorDescription string `db:"error_description"`

	// Set when the code is issued and redeemed.
	CodeHash      []byte     `db:"code_hash"`
	CodeExpiresAt *time.Time `db:"code_expires_at"`
	CodeUsedAt    *time.Time `db:"code_used_at"`
}

// Completion is what a finished sign-in records on its request.
type Completion struct {
	Subject     string
	SessionHash []byte
	AuthTime    time.Time
	AMR         []string
	ACR         string
}

// AuthRequests stores authorization requests and their codes.
type AuthRequests struct {
	q       queryer
	dialect Dialect
}

// AuthRequests returns the authorization request repository.
func (s *Store) AuthRequests() AuthRequests { return AuthRequests{s.q, s.dialect} }

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_mode, code_challenge,
	code_challenge_method, prompt, max_age, login_hint, hint_subject, acr_values, claims, created_at, expires_at,
	subject, session_hash, auth_time, amr, acr, done, error_code, error_description, code_hash, code_expires_at, code_used_at,
	browser_hash, client_network, account_chosen, consent_given, enrollment_deferred`

// ErrTooManyPending refuses a request from a client network that already
// has as many unfinished sign-ins as it may.
var ErrTooManyPending = errors.New("too many unfinished sign-ins from this network")

// Create stores a new request, filling ID and CreatedAt; ExpiresAt must be
// set. It is refused with ErrTooManyPending when a.ClientNetwork already
// has maxPending unexpired requests without a code or an error: the count
// and the insert are one statement.
func (r AuthRequests) Create(ctx context.Context, a *AuthRequest, maxPending int) error {
	a.ID = newID()
	a.CreatedAt = now()
	query := createAuthRequest
	if r.dialect == SQLite {
		query = createAuthRequestSQLite
	}
	res, err := r.q.ExecContext(ctx, query, append(requestArgs(a, a.ID, a.CreatedAt, a.ExpiresAt.UTC().Truncate(time.Microsecond)), maxPending)...)
	err = expectOne(res, err, "create auth request")
	if errors.Is(err, ErrNotFound) {
		return ErrTooManyPending
	}
	return err
}

// requestColumns are what a request is stored with when it arrives, in the
// order of requestArgs.
const requestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_mode, code_challenge,
	code_challenge_method, prompt, max_age, login_hint, hint_subject, acr_values, claims, created_at, expires_at,
	browser_hash, client_network`

// requestArgs are a's values of requestColumns, with its id and times.
func requestArgs(a *AuthRequest, id string, created, expires time.Time) []any {
	return []any{id, a.ClientID, a.RedirectURI, a.Scopes, a.State, a.Nonce, a.ResponseMode, a.CodeChallenge,
		a.CodeChallengeMethod, a.Prompt, a.MaxAge, a.LoginHint, a.HintSubject, a.ACRValues, a.Claims,
		created, expires, a.BrowserHash, a.ClientNetwork}
}

// The INSERT of a request, unless its network has $20 open ones already,
// counted in the index of open requests (auth_requests_pending_network): as
// cheap as the bound, however many the network has finished. SQLite is
// told to use that index: without statistics its planner would look up
// code_hash IS NULL in the unique index of codes, which holds every request
// without a code.
var (
	createAuthRequest       = createAuthRequestQuery("")
	createAuthRequestSQLite = createAuthRequestQuery("INDEXED BY auth_requests_pending_network")
)

func createAuthRequestQuery(indexedBy string) string {
	return `INSERT INTO auth_requests (` + requestColumns + `)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19
	WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM auth_requests ` + indexedBy + ` WHERE client_network = $19
		AND expires_at > $16 AND code_hash IS NULL AND error_code = '' LIMIT $20) pending) < $20`
}

// ChooseAccount records that the user chose to continue with the signed-in
// account for an open request.
func (r AuthRequests) ChooseAccount(ctx context.Context, id string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE auth_requests SET account_chosen = TRUE
		WHERE id = $1 AND expires_at > $2 AND code_hash IS NULL AND error_code = ''`, id, now())
	return expectOne(res, err, "choose account")
}

// GiveConsent records that the user allowed the client, for an open request.
func (r AuthRequests) GiveConsent(ctx context.Context, id string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE auth_requests SET consent_given = TRUE
		WHERE id = $1 AND expires_at > $2 AND code_hash IS NULL AND error_code = ''`, id, now())
	return expectOne(res, err, "give consent")
}

// DeferEnrollment records that the member chose to set up a second factor
// later, for this open request.
func (r AuthRequests) DeferEnrollment(ctx context.Context, id string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE auth_requests SET enrollment_deferred = TRUE
		WHERE id = $1 AND expires_at > $2 AND code_hash IS NULL AND error_code = ''`, id, now())
	return expectOne(res, err, "defer enrollment")
}

// Get returns an unexpired request.
func (r AuthRequests) Get(ctx context.Context, id string) (*AuthRequest, error) {
	var a AuthRequest
	err := r.q.GetContext(ctx, &a, `SELECT `+authRequestColumns+` FROM auth_requests WHERE id = $1 AND expires_at > $2`, id, now())
	return &a, wrap(err, "get auth request")
}

// Complete records the finished sign-in. It fails with ErrNotFound for an
// expired request or one that already has a code.
func (r AuthRequests) Complete(ctx context.Context, id string, c Completion) error {
	res, err := r.q.ExecContext(ctx, `UPDATE auth_requests SET subject = $1, session_hash = $2, auth_time = $3, amr = $4,
		acr = $5, done = TRUE WHERE id = $6 AND expires_at > $7 AND code_hash IS NULL AND error_code = ''`,
		c.Subject, c.SessionHash, c.AuthTime.UTC().Truncate(time.Microsecond), StringList(c.AMR), c.ACR, id, now())
	return expectOne(res, err, "complete auth request")
}

// Fail records that the request ends with an OAuth error for the client.
func (r AuthRequests) Fail(ctx context.Context, id, code, description string) error {
	res, err := r.q.ExecContext(ctx, `UPDATE auth_requests SET error_code = $1, error_description = $2
		WHERE id = $3 AND expires_at > $4 AND code_hash IS NULL AND done = FALSE`, code, description, id, now())
	return expectOne(res, err, "fail auth request")
}

// SetCode attaches the digest of a newly issued code to a completed request.
// Only one code is ever issued per request.
func (r AuthRequests) SetCode(ctx context.Context, id string, codeHash []byte, expiresAt time.Time) error {
	res, err := r.q.ExecContext(ctx, `UPDATE auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND done = TRUE AND code_hash IS NULL AND expires_at > $4`,
		codeHash, expiresAt.UTC().Truncate(time.Microsecond), id, now())
	return expectOne(res, err, "set code")
}

// CodeFor is who may have a completed request's code: the browser that
// started the sign-in and the session that completed it, by the digests
// of their cookies.
type CodeFor struct {
	BrowserHash, SessionHash []byte
	CodeHash                 []byte
	ExpiresAt                time.Time
}

// IssueCode attaches a code to a completed, unexpired request without one,
// when c's browser and session are the ones the request belongs to, and
// returns the request: the callback's common case in one statement. Any
// other case is ErrNotFound, for the caller to tell which it is. The
// digests are of 256-bit random cookies, compared in SQL as the tokens'
// digests are looked up.
func (r AuthRequests) IssueCode(ctx context.Context, id string, c CodeFor) (*AuthRequest, error) {
	var a AuthRequest
	err := r.q.GetContext(ctx, &a, `UPDATE auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND done = TRUE AND code_hash IS NULL AND expires_at > $4
			AND (browser_hash IS NULL OR browser_hash = $5) AND session_hash = $6
		RETURNING `+authRequestColumns,
		c.CodeHash, c.ExpiresAt.UTC().Truncate(time.Microsecond), id, now(), c.BrowserHash, c.SessionHash)
	return &a, wrap(err, "issue code")
}

// CompleteWithCode records the finished sign-in c and attaches a code to it
// in one statement, when the request is open, unexpired and belongs to the
// browser whose flow cookie digest is code.BrowserHash; it returns the
// request. Any other case is ErrNotFound with nothing written, for the
// caller to record the completion alone and let the callback say why.
// code.SessionHash is not read: the completion names the session.
func (r AuthRequests) CompleteWithCode(ctx context.Context, id string, c Completion, code CodeFor) (*AuthRequest, error) {
	var a AuthRequest
	err := r.q.GetContext(ctx, &a, `UPDATE auth_requests SET subject = $1, session_hash = $2, auth_time = $3, amr = $4,
		acr = $5, done = TRUE, code_hash = $6, code_expires_at = $7
		WHERE id = $8 AND expires_at > $9 AND code_hash IS NULL AND error_code = ''
			AND (browser_hash IS NULL OR browser_hash = $10)
		RETURNING `+authRequestColumns,
		c.Subject, c.SessionHash, c.AuthTime.UTC().Truncate(time.Microsecond), StringList(c.AMR), c.ACR,
		code.CodeHash, code.ExpiresAt.UTC().Truncate(time.Microsecond), id, now(), code.BrowserHash)
	return &a, wrap(err, "complete auth request with code")
}

// CreateCompleted stores a request that completed as it arrived (a browser
// already signed in as it asks), with the completion c and code's code, in
// one statement: what Create and then CompleteWithCode would store. It
// fills ID, CreatedAt when it is zero (a set one is kept: the sign-in was
// decided against it) and the completion's fields. An open request is
// never stored this way, so the bound on open requests does not apply. As
// with CompleteWithCode, a request bound to another browser than
// code.BrowserHash is ErrNotFound, with nothing written.
func (r AuthRequests) CreateCompleted(ctx context.Context, a *AuthRequest, c Completion, code CodeFor) error {
	if a.BrowserHash != nil && subtle.ConstantTimeCompare(a.BrowserHash, code.BrowserHash) != 1 {
		return ErrNotFound
	}
	id, created, expires := newID(), a.CreatedAt.UTC().Truncate(time.Microsecond), a.ExpiresAt.UTC().Truncate(time.Microsecond)
	if a.CreatedAt.IsZero() {
		created = now()
	}
	authTime, codeExpires := c.AuthTime.UTC().Truncate(time.Microsecond), code.ExpiresAt.UTC().Truncate(time.Microsecond)
	_, err := r.q.ExecContext(ctx, `INSERT INTO auth_requests (`+requestColumns+`,
		subject, session_hash, auth_time, amr, acr, done, code_hash, code_expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
			$20, $21, $22, $23, $24, TRUE, $25, $26)`,
		append(requestArgs(a, id, created, expires),
			c.Subject, c.SessionHash, authTime, StringList(c.AMR), c.ACR, code.CodeHash, codeExpires)...)
	if err != nil {
		return wrap(err, "create completed auth request")
	}
	a.ID, a.CreatedAt, a.ExpiresAt = id, created, expires
	a.Subject, a.SessionHash, a.AuthTime, a.AMR, a.ACR, a.Done = c.Subject, c.SessionHash, &authTime, StringList(c.AMR), c.ACR, true
	a.CodeHash, a.CodeExpiresAt = code.CodeHash, &codeExpires
	return nil
}

// ByCode returns the request a code was issued for, without consuming it,
// so the token endpoint can check the client and PKCE first.
func (r AuthRequests) ByCode(ctx context.Context, codeHash []byte) (*AuthRequest, error) {
	var a AuthRequest
	err := r.q.GetContext(ctx, &a, `SELECT `+authRequestColumns+` FROM auth_requests WHERE code_hash = $1`, codeHash)
	return &a, wrap(err, "get auth request by code")
}

var codeWithUserQuery = withUserQuery(authRequestColumns, "auth_requests h", "subject", "h.code_hash = $1")

// ByCodeWithUser is ByCode with the user the request signed in and their
// memberships, in one query: the code exchange's common case. A code
// unknown, of an unfinished request or of a user since deleted is
// ErrNotFound, for the caller to tell which with ByCode.
func (r AuthRequests) ByCodeWithUser(ctx context.Context, codeHash []byte) (*AuthRequest, *User, []Membership, error) {
	return getWithUser[AuthRequest](ctx, r.q, codeWithUserQuery, codeHash)
}

// ConsumeCode redeems a code exactly once across every replica: of any
// number of concurrent calls, one succeeds. An expired code is ErrNotFound;
// a code redeemed before is ErrCodeReused.
func (r AuthRequests) ConsumeCode(ctx context.Context, codeHash []byte) error {
	t := now()
	res, err := r.q.ExecContext(ctx, `UPDATE auth_requests SET code_used_at = $1
		WHERE code_hash = $2 AND code_used_at IS NULL AND code_expires_at > $1`, t, codeHash)
	err = expectOne(res, err, "consume code")
	if errors.Is(err, ErrNotFound) {
		if a, getErr := r.ByCode(ctx, codeHash); getErr == nil && a.CodeUsedAt != nil {
			return ErrCodeReused
		}
	}
	return err
}

// Delete removes a request.
func (r AuthRequests) Delete(ctx context.Context, id string) error {
	_, err := r.q.ExecContext(ctx, `DELETE FROM auth_requests WHERE id = $1`, id)
	return wrap(err, "delete auth request")
}

// DeleteExpired removes up to limit requests that expired before t and
// reports how many it removed. A request whose code was issued is kept
// until the code would have expired, so a late reuse is still recognised.
func (r AuthRequests) DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error) {
	return deleteBatch(ctx, r.q, `DELETE FROM auth_requests WHERE id IN (SELECT id FROM auth_requests
		WHERE expires_at < $1 AND (code_expires_at IS NULL OR code_expires_at < $1) LIMIT $2)`, t, limit)
}
