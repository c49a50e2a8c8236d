package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/directory"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/totp"
	"github.com/gatehouse-id/gatehouse/storage"
)

// The messages of every second-factor answer, wherever it is typed.
const (
	msgWrongCode    = "That code didn't work. Check your app and try again."
	msgReplayedCode = "That code was already used. Wait for the next code in your app and try again."
	msgEnterCode    = "Enter the code from your authenticator app."
	msgCodeDigits   = "The code is 6 digits (0–9). Spaces are fine."
	msgCodeLength   = "The code is 6 digits. Check your app and enter the code it shows now."
	msgKeyRefused   = "Your security key's answer could not be verified. Try again, or use another way to sign in."
	msgKeyMalformed = "Your browser sent an answer this page cannot read. Try again."
	msgKeyCounter   = "This security key reported fewer uses than before, which a copied key would. It was refused; use another way to sign in and tell your administrator."
	// msgClockHint follows msgWrongCode while an app is being added, when a
	// phone's clock is the usual culprit.
	msgClockHint = "If it keeps failing, check that your phone sets its clock automatically."
)

// Why an answer was proved: the sign-in's second-factor step, adding a
// factor, or confirming a change on the account pages.
type proofPurpose int

const (
	proofSignIn proofPurpose = iota + 1
	proofEnroll
	proofConfirm
)

var (
	// errSessionGone: the browser session ended while its answer was checked.
	errSessionGone = errors.New("the session ended")
	// errMalformedAnswer rolls back an answer that is not of the factor's form.
	errMalformedAnswer = errors.New("malformed answer")
)

// proof is one answer to a second-factor challenge.
type proof struct {
	purpose  proofPurpose
	user     *storage.User
	clientID string // the application signing in, or the account client
	factor   mfa.Factor
	// factorID is the stored factor answered (pending, when enrolling).
	factorID string
	// answer holds the factor's secret and counter; Response is what the
	// user typed, as it came.
	answer mfa.Answer
	// session, when set, moves to a new id that has proved the factor.
	session *browserSession
	// use records the accepted answer's counter so that it works once on
	// any replica (storage.ErrReplayed for one used already); nil when
	// apply records it.
	use func(tx *storage.Store, counter int64) error
	// apply writes what the proved answer changes, in the same transaction.
	apply func(tx *storage.Store, counter int64) error
}

// outcome is how a proof ended for the user. When Accepted is false,
// Status and one of the messages say why.
type outcome struct {
	Accepted bool
	Status   int
	// FieldError is about the answer; FormError about the whole form (a lock).
	FieldError, FormError string
}

// prove checks an answer to a second factor, the one way every page does:
// under the account's lockout (guardSecondFactor), with one set of messages,
// recording the accepted counter, applying what the answer allows and
// moving the session to a new id that has proved the factor, all in one
// transaction; then it counts the answer in the metrics and sets the new
// session cookie. An error from apply (or errSessionGone) comes back as is.
func (u *UI) prove(ctx context.Context, w http.ResponseWriter, r *http.Request, p proof) (outcome, error) {
	kind := p.factor.Kind()
	if kind == mfa.FactorTOTP {
		code, problem := normalizeCode(p.answer.Response)
		if problem != "" {
			return outcome{Status: http.StatusBadRequest, FieldError: problem}, nil
		}
		p.answer.Response = code
	}
	var cookie string
	res, err := u.guardSecondFactor(ctx, r, mfaAttempt{UserID: p.user.ID, ClientID: p.clientID, Method: kind},
		func(tx *storage.Store) (string, error) {
			now := time.Now()
			p.answer.Now = now
			proved, err := p.factor.Finish(ctx, p.answer)
			if refusal, err := refusalOf(err, kind); refusal != "" || err != nil {
				return refusal, err
			}
			counter := proved.Counter
			if p.use != nil {
				if err := p.use(tx, counter); errors.Is(err, storage.ErrReplayed) {
					return "replayed", nil
				} else if err != nil {
					return "", err
				}
			}
			if p.apply != nil {
				if err := p.apply(tx, counter); err != nil {
					return "", err
				}
			}
			if p.purpose == proofSignIn {
				ok := directory.Event{Type: directory.EventSecondFactorOK, SubjectID: p.user.ID, Details: map[string]string{"factor_id": p.factorID}}
				if err := directory.Record(ctx, tx, actor(r, p.user.ID, p.clientID), ok); err != nil {
					return "", err
				}
			}
			if p.session == nil {
				return "", nil
			}
			var digest []byte
			cookie, digest = storage.NewSecret()
			next := *p.session.session
			next.IDHash = digest
			next.AMR = mfa.WithFactor(p.session.session.AMR, proved.Methods...)
			next.MFATime = &now
			if err := tx.Sessions().Replace(ctx, p.session.hash, &next); errors.Is(err, storage.ErrNotFound) {
				return "", errSessionGone
			} else if err != nil {
				return "", err
			}
			return "", nil
		})
	if errors.Is(err, errMalformedAnswer) {
		if kind == mfa.FactorWebAuthn {
			return outcome{Status: http.StatusBadRequest, FieldError: msgKeyMalformed}, nil
		}
		return outcome{Status: http.StatusBadRequest, FieldError: msgCodeDigits}, nil
	}
	if err != nil {
		return outcome{}, err
	}
	u.countProof(p.purpose, kind, res)
	switch {
	case res.Accepted():
		if cookie != "" {
			u.setSessionCookie(w, cookie)
		}
		return outcome{Accepted: true}, nil
	case res.Lock.Locked():
		// Locked before, or by this failure.
		res.Lock.answer(w, time.Now())
		o := outcome{Status: http.StatusTooManyRequests, FormError: res.Lock.Message()}
		if res.Refusal != "" {
			o.FieldError = refusalMessage(res.Refusal, p.purpose, kind)
		}
		return o, nil
	}
	return outcome{Status: http.StatusUnauthorized, FieldError: refusalMessage(res.Refusal, p.purpose, kind)}, nil
}

// refusalOf is why a factor's Finish refused an answer ("" when it did
// not), or an error that rolls the attempt back: errMalformedAnswer for an
// answer not even of the factor's form (a typing slip is not a guess, and
// is not counted), or a fault.
func refusalOf(err error, kind mfa.FactorKind) (string, error) {
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, mfa.ErrCounterWentBack):
		return "counter_went_back", nil
	case errors.Is(err, mfa.ErrWrongAnswer) && kind == mfa.FactorWebAuthn:
		return "key_refused", nil
	case errors.Is(err, mfa.ErrWrongAnswer):
		return "wrong_code", nil
	case errors.Is(err, mfa.ErrReplayedAnswer):
		return "replayed", nil
	case errors.Is(err, mfa.ErrMalformedAnswer):
		return "", errMalformedAnswer
	}
	return "", err
}

// refusalMessage tells the user why their answer of this kind was refused.
func refusalMessage(refusal string, purpose proofPurpose, kind mfa.FactorKind) string {
	switch {
	case refusal == "counter_went_back":
		return msgKeyCounter
	case kind == mfa.FactorWebAuthn:
		// A key's counter seen already is refused like any bad answer.
		return msgKeyRefused
	case refusal == "replayed":
		return msgReplayedCode
	case purpose == proofEnroll:
		return msgWrongCode + " " + msgClockHint
	}
	return msgWrongCode
}

// countProof counts a sign-in's answer by outcome, and a factor added.
func (u *UI) countProof(purpose proofPurpose, kind mfa.FactorKind, res mfaResult) {
	switch {
	case purpose == proofEnroll && res.Accepted():
		u.metrics.enrolled(kind)
	case purpose != proofSignIn:
	case res.Accepted():
		u.metrics.signin(string(kind), outcomeSuccess)
	case res.Refusal == "":
		u.metrics.signin(string(kind), outcomeLocked)
	default:
		u.metrics.signin(string(kind), outcomeFailure)
	}
}

// openSecret decrypts a stored factor's secret for user.
func (u *UI) openSecret(user *storage.User, f *storage.Factor) ([]byte, error) {
	key, err := u.totpKey()
	if err != nil {
		return nil, err
	}
	secret, err := totp.Decrypt(key, user.ID, f.ID, f.Secret)
	if err != nil {
		return nil, fmt.Errorf("open the authenticator secret: %w", err)
	}
	return secret, nil
}
