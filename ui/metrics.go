package ui

import (
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/prometheus/client_golang/prometheus"
)

// Sign-in outcomes, the values of the outcome label.
const (
	outcomeSuccess = "success" // the factor was proved
	outcomeFailure = "failure" // a wrong email, password or code (or a refused user)
	outcomeLocked  = "locked"  // refused by a rate-limit lock before checking
	outcomeBusy    = "busy"    // no hashing slot came free in time
)

// Factor labels: the password step, and each second factor by its kind.
const (
	factorPassword = "password"
	factorTOTP     = string(mfa.FactorTOTP)
)

type metrics struct {
	signins          *prometheus.CounterVec
	passwordDuration prometheus.Histogram
	enrollments      *prometheus.CounterVec
}

// newMetrics makes the sign-in metrics and registers them with reg unless
// it is nil. A registry that already has them (a second UI on the same
// registry) shares its collectors.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		signins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_signins_total",
			Help: "Sign-in steps answered, by factor and outcome (success, failure, locked, busy).",
		}, []string{"factor", "outcome"}),
		passwordDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatehouse_signin_password_duration_seconds",
			Help:    "Time to answer a password step that checked a password, hashing included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		enrollments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_mfa_enrollments_total",
			Help: "Second factors enrolled, by factor.",
		}, []string{"factor"}),
	}
	// Every outcome exists from the start, so rates work before the first.
	for _, o := range []string{outcomeSuccess, outcomeFailure, outcomeLocked, outcomeBusy} {
		m.signins.WithLabelValues(factorPassword, o)
	}
	for _, o := range []string{outcomeSuccess, outcomeFailure, outcomeLocked} {
		m.signins.WithLabelValues(factorTOTP, o)
	}
	m.enrollments.WithLabelValues(string(mfa.FactorTOTP))
	if reg == nil {
		return m, nil
	}
	var err error
	if m.signins, err = register(reg, m.signins); err != nil {
		return nil, err
	}
	if m.passwordDuration, err = register(reg, m.passwordDuration); err != nil {
		return nil, err
	}
	if m.enrollments, err = register(reg, m.enrollments); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("ui: register metrics: %w", err)
}

func (m *metrics) signin(factor, outcome string) {
	m.signins.WithLabelValues(factor, outcome).Inc()
}

// enrolled counts a second factor of this kind enrolled.
func (m *metrics) enrolled(factor mfa.FactorKind) {
	m.enrollments.WithLabelValues(string(factor)).Inc()
}
