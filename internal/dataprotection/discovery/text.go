package discovery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/dataprotection"
)

// Request is one scan or redact call: the texts and the engine options, as
// the command line has them.
type Request struct {
	ScanOptions
	// Texts are the inputs, each on its own (offsets are per text).
	Texts []string
	// Format is how every text is read: text (default), jsonl, csv, json or
	// eml; redaction keeps it.
	Format string
	// Operator is the redaction operator (redact only).
	Operator string
}

// Finding is a finding as the API shows it: never the value itself.
type Finding struct {
	// Item is the index of the text it was found in.
	Item      int     `json:"item"`
	Entity    string  `json:"entity"`
	Start     int     `json:"start"`
	End       int     `json:"end"`
	Score     float64 `json:"score"`
	Validator string  `json:"validator"`
	// Masked shows at most what PCI DSS allows (first 6 and last 4 of a PAN, nothing of a CVV).
	Masked string `json:"masked"`
}

// Result is the answer to a Request.
type Result struct {
	Items    int            `json:"items"`
	Bytes    int64          `json:"bytes"`
	Counts   map[string]int `json:"counts"`
	Findings []Finding      `json:"findings"`
	// Redacted holds each text with its findings replaced (redact only).
	Redacted []string `json:"redacted,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// TooLargeError reports a request whose texts exceed the configured size.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the texts hold more than the %d bytes this server scans in one request", e.Limit)
}

// Process scans (redact false) or redacts the texts of req. It validates
// every option first and answers an *InputError or *TooLargeError for bad
// input; the texts are never logged or stored.
func (s *Service) Process(ctx context.Context, req Request, redact bool) (*Result, error) {
	if len(req.Texts) == 0 {
		return nil, inputErr("text", "is required (or texts)")
	}
	if max := s.cfg.APIMaxItems; max > 0 && len(req.Texts) > max {
		return nil, inputErr("texts", fmt.Sprintf("holds more than %d texts", max))
	}
	var total int64
	for _, t := range req.Texts {
		total += int64(len(t))
	}
	if lim := s.cfg.APIMaxBytes; lim > 0 && total > lim {
		return nil, &TooLargeError{Limit: lim}
	}
	format := dataprotection.FormatText
	if req.Format != "" {
		f, ok := dataprotection.ParseFormat(req.Format)
		if !ok {
			return nil, inputErr("format", "must be text, jsonl, csv, json or eml")
		}
		format = f
	}
	sc, err := s.Scanner(req.ScanOptions)
	if err != nil {
		return nil, err
	}
	var op *dataprotection.Operator
	if redact {
		if op, err = s.Operator(req.Operator); err != nil {
			return nil, err
		}
	} else if req.Operator != "" {
		return nil, inputErr("operator", "applies to redact only")
	}
	res := &Result{Items: len(req.Texts), Bytes: total, Counts: map[string]int{}, Findings: []Finding{}}
	if redact {
		res.Redacted = make([]string, 0, len(req.Texts))
	}
	for i, text := range req.Texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out, err := s.processOne(ctx, sc, op, i, []byte(text), format, res)
		if err != nil {
			return nil, err
		}
		if redact {
			res.Redacted = append(res.Redacted, string(out))
		}
	}
	return res, nil
}

// processOne handles one text; plain text takes the direct path (one Scan,
// one RedactBytes), the other formats the streaming readers.
func (s *Service) processOne(ctx context.Context, sc *dataprotection.Scanner, op *dataprotection.Operator, item int, text []byte,
	format dataprotection.Format, res *Result) ([]byte, error) {
	add := func(f dataprotection.Finding, value []byte) error {
		m, err := s.masker.Apply(f.Entity, value)
		if err != nil {
			return err
		}
		res.Findings = append(res.Findings, Finding{Item: item, Entity: string(f.Entity), Start: f.Start, End: f.End,
			Score: f.Score, Validator: f.Validator, Masked: string(m)})
		res.Counts[string(f.Entity)]++
		return nil
	}
	if format == dataprotection.FormatText {
		fs := sc.Scan(text)
		for _, f := range fs {
			if err := add(f, text[f.Start:f.End]); err != nil {
				return nil, err
			}
		}
		if op == nil {
			return nil, nil
		}
		return op.RedactBytes(text, fs)
	}
	var rep *dataprotection.Report
	var err error
	if format == dataprotection.FormatEML {
		rep, err = sc.ScanEML(ctx, bytes.NewReader(text), add)
	} else {
		rep, err = sc.ScanStream(ctx, bytes.NewReader(text), format, add)
	}
	if err != nil {
		return nil, err
	}
	s.warn(res, item, rep)
	if op == nil {
		return nil, nil
	}
	var out bytes.Buffer
	out.Grow(len(text) + len(text)/8)
	if format == dataprotection.FormatEML {
		_, err = sc.RedactEML(ctx, bytes.NewReader(text), &out, op)
	} else {
		_, err = sc.RedactStream(ctx, bytes.NewReader(text), &out, format, op)
	}
	if err != nil {
		if errors.Is(err, dataprotection.ErrRecordTooLong) {
			return nil, inputErr("texts", fmt.Sprintf("text %d has a record longer than 16 MiB", item))
		}
		return nil, err
	}
	return out.Bytes(), nil
}

func (s *Service) warn(res *Result, item int, rep *dataprotection.Report) {
	if rep == nil {
		return
	}
	for _, w := range rep.Warnings {
		if len(res.Warnings) >= 100 {
			return
		}
		msg := fmt.Sprintf("text %d: %s", item, w)
		if !slices.Contains(res.Warnings, msg) {
			res.Warnings = append(res.Warnings, msg)
		}
	}
}

// AuditDetail is the audit trail's note of a scan or redaction: sizes, the
// operator (op, "" for a scan) and the count per entity, never a value.
func (r *Result) AuditDetail(op string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d texts, %d bytes", r.Items, r.Bytes)
	if op != "" {
		b.WriteString(", operator " + op)
	}
	keys := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		b.WriteString("; no findings")
	}
	for i, k := range keys {
		if i == 0 {
			b.WriteString("; ")
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + strconv.Itoa(r.Counts[k]))
	}
	return b.String()
}
