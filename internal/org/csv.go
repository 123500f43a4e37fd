package org

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the people CSV importer.
const (
	MaxImportBytes = 16 << 20 // larger files are refused
	MaxImportRows  = 100_000
	// maxRowErrors stops parsing a hopeless file early.
	maxRowErrors = 10_000
)

// Column is a column of the people CSV file.
type Column uint16

// The columns of the people CSV file (see docs/organization.md).
const (
	ColEmployeeID Column = 1 << iota
	ColFullName
	ColEmail
	ColJobRole
	ColSite
	ColTeam
	ColClients
	ColStartDate
	ColLeaveDate
	ColActive
)

var columnNames = map[string]Column{
	"employee_id": ColEmployeeID,
	"full_name":   ColFullName,
	"email":       ColEmail,
	"role":        ColJobRole,
	"job_role":    ColJobRole,
	"site":        ColSite,
	"team":        ColTeam,
	"clients":     ColClients,
	"start_date":  ColStartDate,
	"leave_date":  ColLeaveDate,
	"active":      ColActive,
	// Spanish headers, as HR systems in Spain export them.
	"id_empleado":     ColEmployeeID,
	"nombre":          ColFullName,
	"nombre_completo": ColFullName,
	"correo":          ColEmail,
	"puesto":          ColJobRole,
	"rol":             ColJobRole,
	"sede":            ColSite,
	"equipo":          ColTeam,
	"clientes":        ColClients,
	"fecha_alta":      ColStartDate,
	"fecha_baja":      ColLeaveDate,
	"activo":          ColActive,
}

// ColumnSet is the set of columns a file has.
type ColumnSet uint16

// Has reports whether the set holds c.
func (s ColumnSet) Has(c Column) bool { return uint16(s)&uint16(c) != 0 }

// ImportRow is one data row of a people CSV file, parsed and checked on its
// own (whether its site, team and clients exist is checked by the plan).
type ImportRow struct {
	Line       int       `json:"line"` // 1-based line number in the file where the row starts
	EmployeeID string    `json:"employee_id"`
	FullName   string    `json:"full_name"`
	Email      string    `json:"email"`
	JobRole    string    `json:"job_role"`
	Site       string    `json:"site"`    // site code
	Team       string    `json:"team"`    // team code
	Clients    []string  `json:"clients"` // client codes
	StartDate  time.Time `json:"start_date,omitzero"`
	LeaveDate  time.Time `json:"leave_date,omitzero"`
	Active     bool      `json:"active"`
	// ActiveSet is true when the row's active cell is not empty (an empty
	// cell keeps the current value; new people are active).
	ActiveSet bool `json:"active_set"`
	// Columns says which columns the file has: a column the file lacks keeps
	// the person's current value on update.
	Columns ColumnSet `json:"columns"`
	// Errors are the row's problems; a row with errors is never imported.
	Errors FieldErrors `json:"errors,omitempty"`
}

// ParsePeopleCSV reads a people CSV file. The first line is the header that
// names the columns (any order, case-insensitive; employee_id, full_name and
// email are required). Fields are separated by commas, or by semicolons when
// the header uses them. It returns every data row with its line number and its
// own problems; the error is for a file that cannot be read at all (no or bad
// header, too large, not UTF-8), and is FieldErrors on the field "file".
func ParsePeopleCSV(r io.Reader) ([]ImportRow, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, MaxImportBytes+1), 64<<10)
	// Skip a UTF-8 byte order mark (Excel writes one).
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	first, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	cr := csv.NewReader(&limitChecker{r: br})
	if bytes.Count(first, []byte{';'}) > bytes.Count(first, []byte{','}) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false

	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, fileError(fmt.Sprintf("the file is larger than %d MiB", MaxImportBytes>>20))
		}
		if errors.Is(err, io.EOF) {
			return nil, fileError("the file is empty: the first line must name the columns")
		}
		return nil, fileError("line 1: the header cannot be read: " + csvReason(err))
	}
	idx, cols, ferr := mapHeader(header)
	if ferr != nil {
		return nil, ferr
	}

	var rows []ImportRow
	nerr := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errTooLarge) {
			return nil, fileError(fmt.Sprintf("the file is larger than %d MiB", MaxImportBytes>>20))
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fileError("the file cannot be read: " + err.Error())
			}
			row := ImportRow{Line: pe.StartLine, Columns: cols}
			row.Errors.Add("line", csvReason(err))
			rows = append(rows, row)
			if nerr++; nerr > maxRowErrors {
				return nil, fileError("too many malformed lines; is this a CSV file?")
			}
			continue
		}
		if allEmpty(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rows) >= MaxImportRows {
			return nil, fileError(fmt.Sprintf("the file has more than %d rows; split it", MaxImportRows))
		}
		row := parseRow(line, rec, len(header), idx, cols)
		if len(row.Errors) > 0 {
			nerr++
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func fileError(msg string) error { return FieldErrors{{Field: "file", Message: msg}} }

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			return "a quote (\") is misplaced or not closed"
		case errors.Is(pe.Err, csv.ErrFieldCount):
			return "wrong number of fields"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

var errTooLarge = errors.New("file too large")

// limitChecker turns reading past MaxImportBytes into errTooLarge.
type limitChecker struct {
	r *bufio.Reader
	n int64
}

func (l *limitChecker) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > MaxImportBytes {
		return 0, errTooLarge
	}
	return n, err
}

func mapHeader(header []string) (map[Column]int, ColumnSet, error) {
	idx := make(map[Column]int)
	var cols ColumnSet
	var fe FieldErrors
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		name = strings.ReplaceAll(strings.ReplaceAll(name, " ", "_"), "-", "_")
		if !utf8.ValidString(name) {
			fe.Add("file", "line 1: the header is not UTF-8 text; save the file as CSV UTF-8")
			return nil, 0, fe
		}
		c, ok := columnNames[name]
		switch {
		case name == "":
			fe.Add("file", fmt.Sprintf("line 1: column %d has no name", i+1))
		case !ok:
			fe.Add("file", fmt.Sprintf("line 1: unknown column %q (known: employee_id, full_name, email, role, site, team, clients, start_date, leave_date, active)", truncate(name, 40)))
		case cols.Has(c):
			fe.Add("file", fmt.Sprintf("line 1: column %q appears twice", name))
		default:
			idx[c] = i
			cols |= ColumnSet(c)
		}
	}
	for _, req := range []struct {
		c    Column
		name string
	}{{ColEmployeeID, "employee_id"}, {ColFullName, "full_name"}, {ColEmail, "email"}} {
		if !cols.Has(req.c) {
			fe.Add("file", fmt.Sprintf("line 1: the required column %q is missing", req.name))
		}
	}
	if len(fe) > 0 {
		return nil, 0, fe
	}
	return idx, cols, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func allEmpty(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func parseRow(line int, rec []string, width int, idx map[Column]int, cols ColumnSet) ImportRow {
	row := ImportRow{Line: line, Columns: cols, Active: true}
	if len(rec) != width {
		row.Errors.Add("line", fmt.Sprintf("has %d fields but the header has %d", len(rec), width))
		return row
	}
	for _, f := range rec {
		if !utf8.ValidString(f) {
			row.Errors.Add("line", "is not UTF-8 text; save the file as CSV UTF-8")
			return row
		}
	}
	get := func(c Column) string {
		if i, ok := idx[c]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	p := Person{
		EmployeeID: get(ColEmployeeID),
		FullName:   get(ColFullName),
		Email:      get(ColEmail),
		JobRole:    get(ColJobRole),
	}
	var err error
	if p.StartDate, err = ParseDate(get(ColStartDate)); err != nil {
		row.Errors.Add("start_date", err.Error())
	}
	if p.LeaveDate, err = ParseDate(get(ColLeaveDate)); err != nil {
		row.Errors.Add("leave_date", err.Error())
	}
	if err := p.Validate(); err != nil {
		fe, _ := AsFieldErrors(err)
		for _, e := range fe {
			if !row.Errors.Has(e.Field) {
				row.Errors = append(row.Errors, e)
			}
		}
	}
	row.EmployeeID, row.FullName, row.Email, row.JobRole = p.EmployeeID, p.FullName, p.Email, p.JobRole
	row.StartDate, row.LeaveDate = p.StartDate, p.LeaveDate

	row.Site = NormalizeCode(get(ColSite))
	if row.Site != "" && !codeRe.MatchString(row.Site) {
		row.Errors.Add("site", "is not a valid site code")
	}
	row.Team = NormalizeCode(get(ColTeam))
	if row.Team != "" && !codeRe.MatchString(row.Team) {
		row.Errors.Add("team", "is not a valid team code")
	}
	row.Clients = []string{}
	for _, c := range strings.FieldsFunc(get(ColClients), func(r rune) bool { return r == ';' || r == '|' }) {
		c = NormalizeCode(c)
		if c == "" {
			continue
		}
		if !codeRe.MatchString(c) {
			row.Errors.Add("clients", fmt.Sprintf("%q is not a valid client code", truncate(c, 40)))
			continue
		}
		if !slices.Contains(row.Clients, c) {
			row.Clients = append(row.Clients, c)
		}
	}
	if cols.Has(ColActive) {
		row.ActiveSet = get(ColActive) != ""
		a, ok := parseBool(get(ColActive))
		if !ok {
			row.Errors.Add("active", "must be true or false (also yes/no, sí/no, 1/0)")
		}
		row.Active = a
	}
	return row
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "true", "yes", "y", "1", "si", "sí", "s", "verdadero", "t":
		return true, true
	case "false", "no", "n", "0", "f", "falso":
		return false, true
	}
	return false, false
}
