package posture

import (
	"time"
)

// Status is the result of a rule or a check.
type Status string

// The four results. Error (could not evaluate) is distinct from
// NotApplicable (the target does not exist or the requirements are not met).
const (
	Passed        Status = "passed"
	Failed        Status = "failed"
	NotApplicable Status = "not_applicable"
	Error         Status = "error"
)

// Evidence is what one rule observed.
type Evidence struct {
	Rule     string `json:"rule"`
	Target   string `json:"target,omitempty"`
	Observed string `json:"observed,omitempty"`
	Expected string `json:"expected,omitempty"`
	Result   Status `json:"result"`
	// missing marks a not_applicable result caused by an absent target,
	// which a "strict" rule turns into failed.
	missing bool
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	Policy      string              `json:"policy"`
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Result      Status              `json:"result"`
	Reason      string              `json:"reason,omitempty"`
	Evidence    []Evidence          `json:"evidence"`
	Compliance  map[string][]string `json:"compliance"`
	Mitre       map[string][]string `json:"mitre,omitempty"`
	Remediation string              `json:"remediation,omitempty"`
}

// PolicyResult is the outcome of one policy. Score is passed / (passed +
// failed) in percent, as SCA computes it; not_applicable and error checks
// do not count.
type PolicyResult struct {
	Policy        string        `json:"policy"`
	Name          string        `json:"name"`
	Dialect       string        `json:"dialect"`
	Score         float64       `json:"score"`
	Passed        int           `json:"passed"`
	Failed        int           `json:"failed"`
	NotApplicable int           `json:"not_applicable"`
	Errors        int           `json:"errors"`
	Checks        []CheckResult `json:"checks"`
}

// Report is one run of several policies on one device for one session user.
type Report struct {
	Device     string         `json:"device"`
	User       string         `json:"user,omitempty"`
	OS         string         `json:"os,omitempty"`
	Started    time.Time      `json:"started"`
	DurationMS int64          `json:"duration_ms"`
	Policies   []PolicyResult `json:"policies"`
}

func (pr *PolicyResult) tally() {
	pr.Passed, pr.Failed, pr.NotApplicable, pr.Errors = 0, 0, 0, 0
	for _, c := range pr.Checks {
		switch c.Result {
		case Passed:
			pr.Passed++
		case Failed:
			pr.Failed++
		case NotApplicable:
			pr.NotApplicable++
		case Error:
			pr.Errors++
		}
	}
	if n := pr.Passed + pr.Failed; n > 0 {
		pr.Score = float64(int(float64(pr.Passed)*1000/float64(n)+0.5)) / 10
	}
}

// Aggregate combines rule results under a condition, following SCA's truth
// table, with error ranked just above not_applicable: an error never hides
// a decisive passed or failed, and is never reported as not_applicable.
func Aggregate(cond Condition, results []Status) Status {
	has := map[Status]bool{}
	for _, r := range results {
		has[r] = true
	}
	rest := func() Status {
		switch {
		case has[Error]:
			return Error
		case has[NotApplicable]:
			return NotApplicable
		}
		return ""
	}
	switch cond {
	case All:
		if has[Failed] {
			return Failed
		}
		if s := rest(); s != "" {
			return s
		}
		return Passed
	case Any:
		if has[Passed] {
			return Passed
		}
		if s := rest(); s != "" {
			return s
		}
		return Failed
	case None:
		if has[Passed] {
			return Failed
		}
		if s := rest(); s != "" {
			return s
		}
		return Passed
	}
	return Error
}
