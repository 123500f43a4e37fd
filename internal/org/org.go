// Package org is Custodia's organization model: the operator (the contact
// center itself), its clients (the brands it serves, and the tenant boundary),
// sites, teams and people. It holds the types, their validation and the
// people CSV import (parsing and planning); the SQL lives in internal/store.
package org

import (
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// DateLayout is how person dates (start, leave) are written in CSV files,
// the API and the database.
const DateLayout = "2006-01-02"

// Pagination limits for list filters.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	// MaxQueryLen caps a search query (longer ones are cut).
	MaxQueryLen = 200
	// MaxPersonClients caps how many clients one person may work for.
	MaxPersonClients = 100
)

// FieldError is one problem with one input field. Message is plain English
// meant for the user (the console translates it through the catalogue).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is a validation failure: field → message pairs in input order.
// It is an error; find it with errors.As or AsFieldErrors.
type FieldErrors []FieldError

// Error joins the problems into one line.
func (fe FieldErrors) Error() string {
	var b strings.Builder
	b.WriteString("invalid input: ")
	for i, e := range fe {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Field)
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Add appends a problem for field.
func (fe *FieldErrors) Add(field, message string) { *fe = append(*fe, FieldError{field, message}) }

// Has reports whether field has a problem.
func (fe FieldErrors) Has(field string) bool {
	return slices.ContainsFunc(fe, func(e FieldError) bool { return e.Field == field })
}

// Err returns fe as an error, or nil when there is no problem.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// AsFieldErrors returns the field errors wrapped in err, if any.
func AsFieldErrors(err error) (FieldErrors, bool) {
	var fe FieldErrors
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// Operator is the contact center running Custodia (a single row).
type Operator struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Client is a brand the operator serves (a bank, a telco, an insurer): the
// tenant boundary. Users may be scoped to some clients.
type Client struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"` // short lower-case slug, unique
	Name      string    `json:"name"`
	Sector    string    `json:"sector,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Site is a physical contact center; sites are operator-wide.
type Site struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	City      string    `json:"city,omitempty"`
	Country   string    `json:"country,omitempty"` // ISO 3166-1 alpha-2, e.g. "ES"
	Timezone  string    `json:"timezone"`          // IANA name, e.g. "Europe/Madrid"
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Team is a group of people at one site, usually working one client's
// campaign (ClientID 0 means an internal team: IT, quality, training…).
type Team struct {
	ID        int64     `json:"id"`
	SiteID    int64     `json:"site_id"`
	ClientID  int64     `json:"client_id,omitempty"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Person is someone who works at the operator: agents, supervisors, staff.
// A person is not a user account; a user may be linked to a person.
type Person struct {
	ID         int64  `json:"id"`
	EmployeeID string `json:"employee_id"`
	FullName   string `json:"full_name"`
	Email      string `json:"email"`    // lower-cased
	JobRole    string `json:"job_role"` // agent, supervisor, team_lead, quality, trainer…
	SiteID     int64  `json:"site_id,omitempty"`
	TeamID     int64  `json:"team_id,omitempty"`
	// ClientIDs are the clients the person works for, ascending. When read
	// through a scope limited to some clients, only the in-scope ones are listed.
	ClientIDs []int64   `json:"client_ids"`
	StartDate time.Time `json:"start_date,omitzero"` // a date (UTC midnight); zero if unknown
	LeaveDate time.Time `json:"leave_date,omitzero"` // a date (UTC midnight); zero if none
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Read-only, filled by reads for display.
	SiteName string `json:"site_name,omitempty"`
	TeamName string `json:"team_name,omitempty"`
}

var (
	codeRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	jobRoleRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	empIDRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$`)
)

// NormalizeCode lower-cases and trims a code.
func NormalizeCode(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func checkCode(fe *FieldErrors, field, code string) {
	switch {
	case code == "":
		fe.Add(field, "is required")
	case !codeRe.MatchString(code):
		fe.Add(field, "must be 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit")
	}
}

func checkText(fe *FieldErrors, field, s string, required bool, max int) {
	switch {
	case required && s == "":
		fe.Add(field, "is required")
	case !utf8.ValidString(s):
		fe.Add(field, "is not valid UTF-8 text")
	case utf8.RuneCountInString(s) > max:
		fe.Add(field, "is too long (at most "+itoa(max)+" characters)")
	case strings.ContainsFunc(s, isControl):
		fe.Add(field, "must not contain control characters")
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Normalize trims the client's text fields and lower-cases its code.
func (c *Client) Normalize() {
	c.Code = NormalizeCode(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	c.Sector = strings.TrimSpace(c.Sector)
}

// Validate normalizes c and reports its problems as FieldErrors.
func (c *Client) Validate() error {
	c.Normalize()
	var fe FieldErrors
	checkCode(&fe, "code", c.Code)
	checkText(&fe, "name", c.Name, true, 200)
	checkText(&fe, "sector", c.Sector, false, 100)
	return fe.Err()
}

// Validate normalizes s and reports its problems as FieldErrors. An empty
// timezone becomes UTC.
func (s *Site) Validate() error {
	s.Code = NormalizeCode(s.Code)
	s.Name = strings.TrimSpace(s.Name)
	s.City = strings.TrimSpace(s.City)
	s.Country = strings.ToUpper(strings.TrimSpace(s.Country))
	s.Timezone = strings.TrimSpace(s.Timezone)
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	var fe FieldErrors
	checkCode(&fe, "code", s.Code)
	checkText(&fe, "name", s.Name, true, 200)
	checkText(&fe, "city", s.City, false, 100)
	if s.Country != "" && (len(s.Country) != 2 || s.Country[0] < 'A' || s.Country[0] > 'Z' || s.Country[1] < 'A' || s.Country[1] > 'Z') {
		fe.Add("country", "must be a two-letter ISO country code such as ES")
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" || len(s.Timezone) > 64 || strings.ContainsAny(s.Timezone, " \t") {
		fe.Add("timezone", "is not a known time zone (use a name such as Europe/Madrid)")
	}
	return fe.Err()
}

// Validate normalizes t and reports its problems as FieldErrors. Whether the
// site and client exist is checked by the store.
func (t *Team) Validate() error {
	t.Code = NormalizeCode(t.Code)
	t.Name = strings.TrimSpace(t.Name)
	var fe FieldErrors
	checkCode(&fe, "code", t.Code)
	checkText(&fe, "name", t.Name, true, 200)
	if t.SiteID <= 0 {
		fe.Add("site_id", "is required")
	}
	if t.ClientID < 0 {
		fe.Add("client_id", "is not a valid client")
	}
	return fe.Err()
}

// Normalize trims p's fields, lower-cases its email, sorts and de-duplicates
// its client ids, truncates dates to the day, writes the job role as a
// lower-case slug ("Team Lead" → "team_lead") defaulting to agent.
func (p *Person) Normalize() {
	p.EmployeeID = strings.TrimSpace(p.EmployeeID)
	p.FullName = strings.Join(strings.Fields(p.FullName), " ")
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	p.JobRole = strings.Join(strings.Fields(strings.ToLower(p.JobRole)), "_") // "Team Lead" → "team_lead"
	if p.JobRole == "" {
		p.JobRole = "agent"
	}
	p.StartDate = Day(p.StartDate)
	p.LeaveDate = Day(p.LeaveDate)
	slices.Sort(p.ClientIDs)
	p.ClientIDs = slices.Compact(p.ClientIDs)
	if p.ClientIDs == nil {
		p.ClientIDs = []int64{}
	}
}

// Validate normalizes p and reports its problems as FieldErrors. Whether the
// site, team and clients exist is checked by the store.
func (p *Person) Validate() error {
	p.Normalize()
	var fe FieldErrors
	switch {
	case p.EmployeeID == "":
		fe.Add("employee_id", "is required")
	case !empIDRe.MatchString(p.EmployeeID):
		fe.Add("employee_id", "must be 1 to 40 letters, digits, '.', '_', '/' or '-', starting with a letter or digit")
	}
	checkText(&fe, "full_name", p.FullName, true, 200)
	if p.Email == "" {
		fe.Add("email", "is required")
	} else if !validEmail(p.Email) {
		fe.Add("email", "is not a valid email address")
	}
	if !jobRoleRe.MatchString(p.JobRole) {
		fe.Add("job_role", "must be 1 to 32 lower-case letters, digits, - or _ (e.g. agent, supervisor)")
	}
	if p.SiteID < 0 {
		fe.Add("site_id", "is not a valid site")
	}
	if p.TeamID < 0 {
		fe.Add("team_id", "is not a valid team")
	}
	if len(p.ClientIDs) > MaxPersonClients {
		fe.Add("client_ids", "lists too many clients (at most "+itoa(MaxPersonClients)+")")
	}
	for _, id := range p.ClientIDs {
		if id <= 0 {
			fe.Add("client_ids", "contains an invalid client")
			break
		}
	}
	checkDate(&fe, "start_date", p.StartDate)
	checkDate(&fe, "leave_date", p.LeaveDate)
	if !p.StartDate.IsZero() && !p.LeaveDate.IsZero() && p.LeaveDate.Before(p.StartDate) {
		fe.Add("leave_date", "is before the start date")
	}
	return fe.Err()
}

func checkDate(fe *FieldErrors, field string, d time.Time) {
	if !d.IsZero() && (d.Year() < 1900 || d.Year() > 2200) {
		fe.Add(field, "is out of range")
	}
}

func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsFunc(s, isControl) || strings.ContainsAny(s, " <>,;\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// Day returns t truncated to its calendar day, as UTC midnight. The zero time stays zero.
func Day(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseDate parses a YYYY-MM-DD date; the empty string is the zero time.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, errors.New("must be a date written YYYY-MM-DD")
	}
	return t, nil
}

// FormatDate writes a date as YYYY-MM-DD, or "" for the zero time.
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(DateLayout)
}

// SearchText is the lower-cased, accent-folded text a person is found by:
// employee id, full name and email.
func (p *Person) SearchText() string {
	return FoldSearch(p.EmployeeID + " " + p.FullName + " " + p.Email)
}

// FoldSearch lower-cases s and removes the accents of Spanish and other
// Western European letters, so "José Núñez" is found by "jose nunez".
func FoldSearch(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		if r < 0x80 {
			return r
		}
		if f, ok := accentFold[r]; ok {
			return f
		}
		return r
	}, s)
}

var accentFold = map[rune]rune{
	'á': 'a', 'à': 'a', 'â': 'a', 'ä': 'a', 'ã': 'a', 'å': 'a',
	'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e',
	'í': 'i', 'ì': 'i', 'î': 'i', 'ï': 'i',
	'ó': 'o', 'ò': 'o', 'ô': 'o', 'ö': 'o', 'õ': 'o',
	'ú': 'u', 'ù': 'u', 'û': 'u', 'ü': 'u',
	'ñ': 'n', 'ç': 'c', 'ý': 'y', 'ÿ': 'y',
}
