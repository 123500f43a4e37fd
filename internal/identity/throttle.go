package identity

import (
	"fmt"
	"net/netip"
	"time"
)

// LoginAttempt is the failure record of one throttling key: "user:NAME"
// (whether or not the user exists) or "ip:ADDR".
type LoginAttempt struct {
	Key         string
	Failures    int       // failures since WindowStart
	WindowStart time.Time // start of the counting window
	LockedUntil time.Time // zero = not locked
	Lockouts    int       // lockouts so far (the next one lasts longer)
	UpdatedAt   time.Time
}

// ThrottlePolicy says how many failures lock a key, and for how long.
type ThrottlePolicy struct {
	MaxFailures int           // failures within Window that lock the key
	Window      time.Duration // counting window
	BaseLock    time.Duration // first lockout; each further one doubles
	MaxLock     time.Duration // lockouts never last longer
	Forget      time.Duration // after this long without a lockout, the delay starts over
}

// DefaultAccountPolicy locks an account after 5 failures in 15 minutes, for
// 5 minutes, then 10, 20, 40, 60 …
var DefaultAccountPolicy = ThrottlePolicy{MaxFailures: 5, Window: 15 * time.Minute, BaseLock: 5 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}

// DefaultIPPolicy locks an address after 20 failures in 15 minutes.
var DefaultIPPolicy = ThrottlePolicy{MaxFailures: 20, Window: 15 * time.Minute, BaseLock: 5 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}

// AccountKey and IPKey are the throttling keys.
func AccountKey(username string) string { return "user:" + NormalizeUsername(username) }

// IPKey is the throttling key of a client address. IPv6 addresses count
// per /64 (one host usually holds a whole /64).
func IPKey(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			return "ip:" + p.String()
		}
		return "ip:" + a.String()
	}
	return "ip:" + ip
}

// RetryAfter is how long the key stays locked at now (0 = not locked).
func (a *LoginAttempt) RetryAfter(now time.Time) time.Duration {
	if a == nil || a.LockedUntil.IsZero() || !now.Before(a.LockedUntil) {
		return 0
	}
	return a.LockedUntil.Sub(now)
}

// Fail records a failure at now and returns the lockout it starts (0 = none).
func (p ThrottlePolicy) Fail(a *LoginAttempt, now time.Time) time.Duration {
	if a.WindowStart.IsZero() || now.Sub(a.WindowStart) >= p.Window {
		a.WindowStart = now
		a.Failures = 0
		if !a.LockedUntil.IsZero() && now.Sub(a.LockedUntil) >= p.Forget {
			a.Lockouts = 0
		}
	}
	a.Failures++
	a.UpdatedAt = now
	if a.Failures < p.MaxFailures {
		return 0
	}
	d := p.BaseLock
	for i := 0; i < a.Lockouts && d < p.MaxLock; i++ {
		d *= 2
	}
	d = min(d, p.MaxLock)
	a.Lockouts++
	a.Failures = 0
	a.WindowStart = now
	a.LockedUntil = now.Add(d)
	return d
}

// ThrottledError is returned for a sign-in refused because the account or
// the address has too many recent failures. Its message says how long to
// wait and never whether the account exists.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return "too many failed sign-ins: try again in " + HumanWait(e.RetryAfter)
}

// HumanWait formats a wait for a message ("3 minutes", "45 seconds").
func HumanWait(d time.Duration) string {
	switch {
	case d <= time.Second:
		return "1 second"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int((d+time.Second-1)/time.Second))
	case d <= time.Minute:
		return "1 minute"
	default:
		return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
	}
}
