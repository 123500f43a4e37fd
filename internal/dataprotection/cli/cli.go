// Package cli holds the command-line tools of the data-protection engine,
// "custodia scan" and "custodia redact". cmd/custodia wires them in; they
// live here so they can be tested on their own.
package cli

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/custodia/custodia/internal/dataprotection"
)

// ErrUsage marks a usage error already explained to the user (exit code 2).
var ErrUsage = errors.New("usage")

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// engineFlags are the flags scan and redact share.
type engineFlags struct {
	lang       string
	entities   string
	input      string
	failClosed bool
	minScore   float64
}

func (e *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.lang, "lang", "auto", "language of spoken numbers and context words: es, en or auto (both)")
	fs.StringVar(&e.entities, "entities", "", "comma-separated entities to report (default: all but DATE_TIME); see the list below")
	fs.StringVar(&e.input, "input-format", "", "read every input as this format: text, jsonl, csv, json or eml (default: from the file extension)")
	fs.BoolVar(&e.failClosed, "fail-closed", false, "payment mode: mask any run of 12 or more digits as CREDIT_CARD even when the Luhn check fails")
	fs.Float64Var(&e.minScore, "min-score", 0, "drop findings scored below this (0–1)")
}

func (e *engineFlags) scanner() (*dataprotection.Scanner, error) {
	opts := dataprotection.Options{Lang: e.lang, FailClosed: e.failClosed, MinScore: e.minScore}
	if e.entities != "" {
		for _, name := range strings.Split(e.entities, ",") {
			name = strings.ToUpper(strings.TrimSpace(name))
			ent, ok := dataprotection.ParseEntity(name)
			if !ok {
				return nil, usageErr("unknown entity %q", name)
			}
			opts.Entities = append(opts.Entities, ent)
		}
	}
	if e.lang != "es" && e.lang != "en" && e.lang != "auto" {
		return nil, usageErr("--lang must be es, en or auto, not %q", e.lang)
	}
	return dataprotection.NewScanner(opts)
}

func (e *engineFlags) format(path string) (dataprotection.Format, error) {
	if e.input != "" {
		f, ok := dataprotection.ParseFormat(e.input)
		if !ok {
			return 0, usageErr("unknown --input-format %q", e.input)
		}
		return f, nil
	}
	return dataprotection.FormatFromPath(path), nil
}

func entityList() string {
	var names []string
	for _, e := range dataprotection.AllEntities() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// ReadKeyFile reads a key: the file's bytes, or, when the file holds only
// hexadecimal or base64 text, the bytes that text encodes.
func ReadKeyFile(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	s := strings.TrimSpace(string(raw))
	if k, err := hex.DecodeString(s); err == nil && len(k) >= dataprotection.MinKeyLen {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) >= dataprotection.MinKeyLen {
		return k, nil
	}
	if len(raw) < dataprotection.MinKeyLen {
		return nil, fmt.Errorf("key file %s: need at least %d bytes of key", path, dataprotection.MinKeyLen)
	}
	return raw, nil
}
