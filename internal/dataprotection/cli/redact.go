package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/custodia/custodia/internal/dataprotection"
)

// Redact runs "custodia redact": it copies IN to OUT with the sensitive
// data replaced, keeping the file's format. OUT is written to a temporary
// file beside it and renamed into place only when complete.
func Redact(ctx context.Context, env *Env, args []string) error {
	fset := flag.NewFlagSet("redact", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	var ef engineFlags
	ef.register(fset)
	opName := fset.String("operator", "redact", "replacement: "+strings.Join(dataprotection.OperatorKinds(), ", ")+
		"\n(redact: <ENTITY>; mask: PCI masking, first 6/last 4 of a PAN at most, nothing of a CVV;\nhash: HMAC-SHA-256; token: deterministic token; encrypt: AES-256-GCM; fpe: FF1 card-shaped PAN)")
	keyFile := fset.String("key-file", "", "file holding the key for hash, token, encrypt and fpe (at least 16 bytes; hex or base64 text is decoded)")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: custodia redact [flags] IN OUT")
		fmt.Fprintln(env.Stderr, "\nCopies IN to OUT with personal and card data replaced. Use - for standard input or output.")
		fmt.Fprintln(env.Stderr, "The format (text, jsonl, csv, json, eml) comes from IN's extension, or OUT's when IN is -;")
		fmt.Fprintln(env.Stderr, "a JSONL stays valid JSONL and a CSV keeps its columns. Memory use does not grow with the input.")
		fmt.Fprintln(env.Stderr, "OUT is written in full to a temporary file and renamed, never left partial.\n\nFlags:")
		fset.PrintDefaults()
		fmt.Fprintln(env.Stderr, "\nEntities:", entityList())
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	if fset.NArg() != 2 {
		fset.Usage()
		return usageErr("want IN and OUT, got %d arguments", fset.NArg())
	}
	in, out := fset.Arg(0), fset.Arg(1)
	var key []byte
	if *keyFile != "" {
		k, err := ReadKeyFile(*keyFile)
		if err != nil {
			return err
		}
		key = k
	}
	op, err := dataprotection.NewOperator(*opName, key)
	if err != nil {
		if *keyFile == "" && *opName != dataprotection.OpRedact && *opName != dataprotection.OpMask {
			return usageErr("%v (give --key-file)", err)
		}
		return usageErr("%v", err)
	}
	sc, err := ef.scanner()
	if err != nil {
		return err
	}
	formatPath := in
	if in == "-" {
		formatPath = out
	}
	format, err := ef.format(formatPath)
	if err != nil {
		return err
	}

	var r io.Reader = env.Stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(8 << 10); bytes.IndexByte(head, 0) >= 0 {
		return fmt.Errorf("%s: binary file: refusing to redact", in)
	}

	if out == "-" {
		rep, err := sc.RedactStream(ctx, br, env.Stdout, format, op)
		warnings(env, in, rep)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	rep, err := sc.RedactStream(ctx, br, tmp, format, op)
	warnings(env, in, rep)
	if err != nil {
		return fmt.Errorf("redact %s: %w", in, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	done = true
	var parts []string
	for _, e := range sortedEntities(rep.Counts) {
		parts = append(parts, fmt.Sprintf("%s=%d", e, rep.Counts[e]))
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing found")
	}
	fmt.Fprintf(env.Stderr, "custodia redact: %s -> %s (%s, %d bytes): %s\n", in, out, format, rep.Bytes, strings.Join(parts, " "))
	return nil
}

func warnings(env *Env, path string, rep *dataprotection.Report) {
	if rep == nil {
		return
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(env.Stderr, "custodia redact: %s: %s\n", path, w)
	}
}
