package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSealOpen(t *testing.T) {
	kr, err := New(Generate())
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte("JBSWY3DPEHPK3PXP")
	ct, err := kr.Seal(pt, []byte("totp:1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, pt) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := kr.Open(ct, []byte("totp:1"))
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v; want %q", got, err, pt)
	}
	if _, err := kr.Open(ct, []byte("totp:2")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open(other associated data) = %v, want ErrDecrypt", err)
	}
	other, _ := New(Generate())
	if _, err := other.Open(ct, []byte("totp:1")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open(other key) = %v, want ErrDecrypt", err)
	}
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := kr.Open(bad, []byte("totp:1")); err == nil {
			t.Fatalf("Open(bit %d flipped) succeeded", i)
		}
	}
	id, err := KeyIDOf(ct)
	if err != nil || id != kr.KeyID() {
		t.Errorf("KeyIDOf = %q, %v; want %q", id, err, kr.KeyID())
	}
}

func TestRewrap(t *testing.T) {
	oldK, _ := New(Generate())
	newK, _ := New(Generate())
	ct, _ := oldK.Seal([]byte("smtp-password"), []byte("secret:smtp"))
	re, err := newK.Rewrap(ct, oldK)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := newK.Open(re, []byte("secret:smtp")); err != nil || string(got) != "smtp-password" {
		t.Fatalf("Open(rewrapped) = %q, %v", got, err)
	}
	if _, err := oldK.Open(re, []byte("secret:smtp")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("old key opens the rewrapped value: %v", err)
	}
	// Rewrapping twice (an interrupted rotation run again) is harmless.
	if _, err := newK.Rewrap(re, oldK); err != nil {
		t.Errorf("Rewrap(already rewrapped) = %v", err)
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	kr, err := LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := LoadOrCreate(dir, "")
	if err != nil || again.KeyID() != kr.KeyID() {
		t.Fatalf("second load: id %v, %v; want %v", again.KeyID(), err, kr.KeyID())
	}
	raw := Generate()
	env, err := LoadOrCreate(dir, Encode(raw))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := New(raw)
	if env.KeyID() != want.KeyID() {
		t.Errorf("env key id = %v, want %v", env.KeyID(), want.KeyID())
	}
	_, err = LoadOrCreate(dir, "c2hvcnQ=")
	if !errors.Is(err, ErrBadKey) || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("short env key: err = %v, want ErrBadKey without the value", err)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	kr, err := LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := kr.Seal([]byte("seed"), []byte("a"))
	rot, err := BeginRotation(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Interrupted after the re-wrap committed: both keys load.
	re, err := rot.New.Rewrap(ct, rot.Old)
	if err != nil {
		t.Fatal(err)
	}
	mid, err := LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mid.Open(re, []byte("a")); err != nil {
		t.Errorf("interrupted rotation: rewrapped value does not open: %v", err)
	}
	rot2, err := BeginRotation(dir)
	if err != nil || rot2.New.KeyID() != rot.New.KeyID() {
		t.Fatalf("resumed rotation uses key %v (%v), want the pending %v", rot2.New.KeyID(), err, rot.New.KeyID())
	}
	oldPath, err := rot.Commit(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(oldPath) != "master.key.old-20260102T030405Z" {
		t.Errorf("old key kept as %s", oldPath)
	}
	after, err := LoadOrCreate(dir, "")
	if err != nil || after.KeyID() != rot.New.KeyID() {
		t.Fatalf("after commit: key %v, %v; want %v", after.KeyID(), err, rot.New.KeyID())
	}
	if _, err := after.Open(re, []byte("a")); err != nil {
		t.Errorf("after commit: %v", err)
	}
	if _, err := after.Open(ct, []byte("a")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("after commit the old wrapping still opens: %v", err)
	}
}

// FuzzOpen feeds arbitrary sealed values to Open and Rewrap: they must fail
// cleanly (never panic) unless the value is genuine.
func FuzzOpen(f *testing.F) {
	kr, _ := New(bytes.Repeat([]byte{7}, KeySize))
	good, _ := kr.Seal([]byte("hello"), []byte("ad"))
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(good[:headerLen])
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := kr.Open(b, []byte("ad"))
		if err == nil && !bytes.Equal(pt, []byte("hello")) && len(b) == len(good) && bytes.Equal(b, good) {
			t.Fatalf("Open(genuine) = %q", pt)
		}
		if err != nil && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Open error %v is not ErrDecrypt", err)
		}
		_, _ = kr.Rewrap(b, nil)
		_, _ = KeyIDOf(b)
	})
}
