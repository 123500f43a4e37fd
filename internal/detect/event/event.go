// Package event holds the parsed, normalized form of one log event that the
// detection engine evaluates: an ordered list of named fields plus the
// event's time, raw text and log source.
package event

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is the JSON-ish type of a field value.
type Kind uint8

// Field value kinds. A Null field exists but has no value; a List holds its
// elements in List and their space-joined text in Value.
const (
	String Kind = iota
	Number
	Bool
	Null
	List
)

// Field is one named value of an event. A List field's items are
// returned by Event.Items.
type Field struct {
	Name  string
	Value string
	Kind  Kind
	// Dup marks a field whose value copies another field of the event
	// (an added Sigma name); full-text searches skip it.
	Dup bool

	src     int32 // for an alias: 1 + index of the field it copies
	list    int32 // for a List: index into Event.lists
	lower   string
	lowered bool
}

// Logsource says where an event comes from, in Sigma's vocabulary.
type Logsource struct {
	Product  string
	Category string
	Service  string
}

// Event is one parsed event. The zero value is an empty event; Reset makes
// an Event reusable without new allocations for the next line.
type Event struct {
	Fields []Field
	Raw    string
	Time   time.Time
	Format string // the parser that produced it: syslog, cef, leef, json, evtx-json, eve, kv, text
	// Logsources lists every Sigma log source the event belongs to (a
	// Sysmon event 1 is both category process_creation and service sysmon).
	Logsources []Logsource

	// Resolve, if set, maps a field name Get did not find to another name
	// (parsers use it to keep original paths addressable after renaming).
	Resolve func(name string) string

	index   map[string]int32
	indexed bool
	lists   [][]string
}

// Reindex drops the name index after fields were renamed in place.
func (e *Event) Reindex() {
	if e.indexed {
		clear(e.index)
		e.indexed = false
	}
}

// Items returns the elements of a List field (nil for other kinds).
func (e *Event) Items(f *Field) []string {
	if f.Kind != List || int(f.list) >= len(e.lists) {
		return nil
	}
	return e.lists[f.list]
}

// mapThreshold is the field count above which Get uses a map instead of a
// linear scan.
const mapThreshold = 40

// Reset empties e for reuse.
func (e *Event) Reset() {
	clear(e.Fields)
	e.Fields = e.Fields[:0]
	e.Raw = ""
	e.Time = time.Time{}
	e.Format = ""
	e.Logsources = e.Logsources[:0]
	e.Resolve = nil
	clear(e.lists)
	e.lists = e.lists[:0]
	if e.indexed {
		clear(e.index)
		e.indexed = false
	}
}

// Add appends a field. A later Add of the same name shadows nothing: Get
// returns the first field with that name, so parsers add the original
// fields first and normalization adds only names that are missing.
func (e *Event) Add(name, value string, kind Kind) {
	e.Fields = append(e.Fields, Field{Name: name, Value: value, Kind: kind})
	if e.indexed {
		if _, ok := e.index[name]; !ok {
			e.index[name] = int32(len(e.Fields) - 1)
		}
	}
}

// AddList appends a list-valued field.
func (e *Event) AddList(name string, items []string) {
	e.lists = append(e.lists, items)
	e.Fields = append(e.Fields, Field{Name: name, Value: strings.Join(items, " "), Kind: List, list: int32(len(e.lists) - 1)})
	if e.indexed {
		if _, ok := e.index[name]; !ok {
			e.index[name] = int32(len(e.Fields) - 1)
		}
	}
}

// AddLogsource records that e belongs to l, once.
func (e *Event) AddLogsource(l Logsource) {
	for _, x := range e.Logsources {
		if x == l {
			return
		}
	}
	e.Logsources = append(e.Logsources, l)
}

// Set adds name=value unless the event already has a field called name.
func (e *Event) Set(name, value string, kind Kind) {
	if e.Get(name) != nil {
		return
	}
	e.Add(name, value, kind)
}

// Alias adds name as a copy of field number src (marked Dup) unless the
// event already has a field called name.
func (e *Event) Alias(name string, src int) {
	if e.Get(name) != nil {
		return
	}
	f := e.Fields[src]
	f.Name = name
	f.Dup = true
	if f.src == 0 {
		f.src = int32(src + 1)
	}
	e.Fields = append(e.Fields, f)
	if e.indexed {
		if _, ok := e.index[name]; !ok {
			e.index[name] = int32(len(e.Fields) - 1)
		}
	}
}

// LowerAll computes the lower-case form of every field, with one
// allocation for all of them; aliases share their source's.
func (e *Event) LowerAll() {
	n := 0
	for i := range e.Fields {
		if f := &e.Fields[i]; !f.lowered && f.src == 0 {
			n += len(f.Value)
		}
	}
	buf := make([]byte, n)
	type span struct{ i, start, end int }
	var spansArr [128]span
	spans := spansArr[:0]
	pos := 0
	for i := range e.Fields {
		f := &e.Fields[i]
		if f.lowered || f.src != 0 {
			continue
		}
		v := f.Value
		start := pos
		ascii := true
		for j := 0; j < len(v); j++ {
			c := v[j]
			if c >= utf8.RuneSelf {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[pos+j] = c
		}
		if ascii {
			pos += len(v)
			spans = append(spans, span{i, start, pos})
			continue
		}
		f.lower, f.lowered = strings.ToLower(v), true
	}
	all := string(buf[:pos])
	for _, sp := range spans {
		f := &e.Fields[sp.i]
		f.lower, f.lowered = all[sp.start:sp.end], true
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		if !f.lowered && f.src != 0 {
			f.lower, f.lowered = e.Fields[f.src-1].Lower(), true
		}
	}
}

// Get returns the first field called name, or nil if there is none.
// Field names are case-sensitive, as in Windows event XML.
func (e *Event) Get(name string) *Field {
	if i := e.Index(name); i >= 0 {
		return &e.Fields[i]
	}
	if e.Resolve != nil {
		if alt := e.Resolve(name); alt != "" && alt != name {
			if i := e.Index(alt); i >= 0 {
				return &e.Fields[i]
			}
		}
	}
	return nil
}

// Index returns the position of the first field called name, or -1.
func (e *Event) Index(name string) int {
	if len(e.Fields) <= mapThreshold {
		for i := range e.Fields {
			if e.Fields[i].Name == name {
				return i
			}
		}
		return -1
	}
	if !e.indexed {
		if e.index == nil {
			e.index = make(map[string]int32, len(e.Fields))
		}
		e.indexed = true
		for i := len(e.Fields) - 1; i >= 0; i-- {
			e.index[e.Fields[i].Name] = int32(i)
		}
	}
	if i, ok := e.index[name]; ok {
		return int(i)
	}
	return -1
}

// Value returns the text of field name and whether it exists.
func (e *Event) Value(name string) (string, bool) {
	f := e.Get(name)
	if f == nil {
		return "", false
	}
	return f.Value, true
}

// Lower returns the field's value lower-cased, computed once per event.
func (f *Field) Lower() string {
	if !f.lowered {
		f.lower = ToLower(f.Value)
		f.lowered = true
	}
	return f.lower
}

// ToLower lower-cases s, returning s itself when it has no upper-case
// letters (the common case), so most calls do not allocate.
func ToLower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
		if 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
