package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
)

func run(t *testing.T, f func(context.Context, *Env, []string) error, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	err := f(context.Background(), env, args)
	return out.String(), errb.String(), err
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanJSONLOutput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.txt", "Cliente: mi tarjeta es 4111 1111 1111 1111\n")
	writeFile(t, dir, "b.csv", "name,iban\nx,ES91 2100 0418 4502 0005 1332\n")
	writeFile(t, dir, "c.bin", "\x00\x01\x02 4111 1111 1111 1111")
	out, errOut, err := run(t, Scan, "", dir)
	if err != nil {
		t.Fatalf("Scan: %v (%s)", err, errOut)
	}
	if !strings.Contains(errOut, "binary file skipped") {
		t.Errorf("stderr %q does not report the binary file", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d findings, want 2:\n%s", len(lines), out)
	}
	var f findingLine
	if err := json.Unmarshal([]byte(lines[0]), &f); err != nil {
		t.Fatal(err)
	}
	if f.Entity != "CREDIT_CARD" || f.Start != 23 || f.End != 42 || f.Masked != "4111 11** **** 1111" || f.Value != "" {
		t.Errorf("finding = %+v", f)
	}
	if strings.Contains(out, "4111 1111 1111 1111") {
		t.Error("the full PAN was printed without --show-values")
	}
	out, _, _ = run(t, Scan, "", "--show-values", filepath.Join(dir, "a.txt"))
	if !strings.Contains(out, `"value":"4111 1111 1111 1111"`) {
		t.Errorf("--show-values output %q lacks the value", out)
	}
}

func TestScanStdinSummaryAndSarif(t *testing.T) {
	in := "DNI 12345678Z, tel 612 345 678, otro DNI 87654321X\n"
	out, _, err := run(t, Scan, in, "--summary", "--format", "text", "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ES_NIF=2") || !strings.Contains(out, "PHONE_NUMBER=1") || !strings.Contains(out, "TOTAL\t1 files") {
		t.Errorf("summary = %q", out)
	}
	out, _, err = run(t, Scan, in, "--format", "sarif", "--entities", "ES_NIF", "-")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []sarifResult `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("sarif is not JSON: %v", err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 || len(doc.Runs[0].Results) != 2 {
		t.Errorf("sarif = %s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{}, {"--lang", "fr", "-"}, {"--entities", "NOPE", "-"}, {"--format", "xml", "-"}, {"--bogus"},
	} {
		_, _, err := run(t, Scan, "", args...)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("Scan(%q) = %v, want a usage error", args, err)
		}
	}
	_, _, err := run(t, Redact, "", "--operator", "hash", "-", "-")
	if !errors.Is(err, ErrUsage) {
		t.Errorf("redact --operator hash without key = %v, want a usage error", err)
	}
	_, _, err = run(t, Scan, "", "--help")
	if err == nil || errors.Is(err, ErrUsage) {
		t.Errorf("--help = %v, want flag.ErrHelp", err)
	}
}

func TestRedactFileAtomic(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.jsonl", `{"t":"pan 4111 1111 1111 1111"}`+"\n")
	key := writeFile(t, dir, "key", strings.Repeat("ab", 32))
	out := filepath.Join(dir, "out.jsonl")
	if _, errOut, err := run(t, Redact, "", "--operator", "fpe", "--key-file", key, in, out); err != nil {
		t.Fatalf("Redact: %v %s", err, errOut)
	}
	got, _ := os.ReadFile(out)
	if !json.Valid(bytes.TrimSpace(got)) || bytes.Contains(got, []byte("4111 1111 1111 1111")) || !bytes.Contains(got, []byte(`"pan 4111 11`)) {
		t.Errorf("output = %s", got)
	}
	// A binary input fails and leaves no output and no temporary file.
	bad := writeFile(t, dir, "bad.txt", "\x00\x00 4111 1111 1111 1111")
	out2 := filepath.Join(dir, "out2.txt")
	if _, _, err := run(t, Redact, "", bad, out2); err == nil {
		t.Error("redacting a binary file succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") || e.Name() == "out2.txt" {
			t.Errorf("left %s behind", e.Name())
		}
	}
	// stdin to stdout.
	o, _, err := run(t, Redact, "Cliente: 4111 1111 1111 1111\n", "--operator", "mask", "-", "-")
	if err != nil || o != "Cliente: 4111 11** **** 1111\n" {
		t.Errorf("stdin redact = %q, %v", o, err)
	}
}

// TestEMLBase64Part: the command-line tools decode a base64 body of an
// .eml for scanning, and redaction re-encodes it the same way.
func TestEMLBase64Part(t *testing.T) {
	dir := t.TempDir()
	body := "Mi tarjeta es 4111 1111 1111 1111, gracias.\n"
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	in := writeFile(t, dir, "m.eml", "From: ana@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"+enc+"\r\n")
	out, errOut, err := run(t, Scan, "", in)
	if err != nil || !strings.Contains(out, `"entity":"CREDIT_CARD"`) {
		t.Fatalf("scan of a base64 part = %q, %q, %v", out, errOut, err)
	}
	dst := filepath.Join(dir, "out.eml")
	if _, errOut, err := run(t, Redact, "", "--operator", "mask", in, dst); err != nil {
		t.Fatalf("redact: %v %s", err, errOut)
	}
	got, _ := os.ReadFile(dst)
	i := bytes.Index(got, []byte("\r\n\r\n"))
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(got[i+4:])))
	if err != nil {
		t.Fatalf("redacted body is not base64: %v\n%s", err, got)
	}
	if string(dec) != "Mi tarjeta es 4111 11** **** 1111, gracias.\n" {
		t.Errorf("redacted body = %q", dec)
	}
	if bytes.Contains(got, []byte("ana@example.com")) {
		t.Errorf("the sender's address survived redaction:\n%s", got)
	}
}

// TestScanOutputMatchesReference: the findings "custodia scan" prints, in
// JSON Lines and text, with and without --show-values, are byte for byte
// what json.Marshal and fmt printed before the command had its own
// encoders, on generated contact-center text with HTML characters, line
// separators, control characters and invalid UTF-8 around the data, in a
// file whose name needs escaping, read as text and as JSONL.
func TestScanOutputMatchesReference(t *testing.T) {
	var text strings.Builder
	for _, d := range corpus.Generate(corpus.Train, 300, 7) {
		text.WriteString(d.Text)
		text.WriteString("\n")
	}
	text.WriteString("<b>4111 1111 1111 1111</b> & ana.lopez@example.com\u2028tel 612 345 678\u2029\x01\x1f \"DNI 12345678Z\" \\ \xff\xfe IBAN ES91 2100 0418 4502 0005 1332\n")
	var jl bytes.Buffer
	for _, line := range strings.Split(text.String(), "\n") {
		b, _ := json.Marshal(map[string]string{"note": line})
		jl.Write(append(b, '\n'))
	}
	dir := t.TempDir()
	files := []string{
		writeFile(t, dir, "a <&> \"q\" \xff.txt", text.String()),
		writeFile(t, dir, "b\u2028.jsonl", jl.String()),
	}
	sc, err := dataprotection.NewScanner(dataprotection.Options{Lang: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	masker, _ := dataprotection.NewOperator(dataprotection.OpMask, nil)
	for _, format := range []string{"jsonl", "text"} {
		for _, show := range []bool{false, true} {
			for _, path := range files {
				var want bytes.Buffer
				content, _ := os.ReadFile(path)
				_, err := sc.ScanStream(context.Background(), bytes.NewReader(content), dataprotection.FormatFromPath(path),
					func(f dataprotection.Finding, value []byte) error {
						masked, _ := masker.Apply(f.Entity, value)
						shown, full := masked, []byte(nil)
						if show {
							shown, full = value, value
						}
						if format == "text" {
							want.WriteString(sprintTextLine(path, f, shown))
							return nil
						}
						b, err := marshalLine(path, f, masked, full)
						want.Write(append(b, '\n'))
						return err
					})
				if err != nil {
					t.Fatal(err)
				}
				args := []string{"--format", format, path}
				if show {
					args = append([]string{"--show-values"}, args...)
				}
				got, errOut, err := run(t, Scan, "", args...)
				if err != nil {
					t.Fatalf("Scan(%q): %v %s", args, err, errOut)
				}
				if want.Len() < 10000 {
					t.Fatalf("reference output for %q is only %d bytes: the input has too little to find", args, want.Len())
				}
				if got != want.String() {
					gl, wl := strings.Split(got, "\n"), strings.Split(want.String(), "\n")
					for i := range min(len(gl), len(wl)) {
						if gl[i] != wl[i] {
							t.Fatalf("Scan(%q) line %d =\n%s\nwant\n%s", args, i+1, gl[i], wl[i])
						}
					}
					t.Fatalf("Scan(%q) gave %d lines, want %d", args, len(gl), len(wl))
				}
			}
		}
	}
}
