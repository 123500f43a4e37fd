// Package secret holds Custodia's master key and the envelope encryption of
// sensitive fields at rest (TOTP seeds, SMTP and OIDC secrets, evidence
// files). Each sealed value has its own random data key, encrypted with
// AES-256-GCM under the master key; the value itself is encrypted with
// AES-256-GCM under the data key. Rotating the master key re-wraps the data
// keys only. No function here ever puts key material or plaintext in an error.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KeySize is the length of a master key and of a data key, in bytes.
const KeySize = 32

// File names in the data directory.
const (
	KeyFile        = "master.key"     // the current master key (base64, mode 0600)
	pendingKeyFile = "master.key.new" // a rotation in progress
)

const (
	version   = 1
	idLen     = 8
	nonceLen  = 12
	tagLen    = 16
	headerLen = 1 + idLen + nonceLen + KeySize + tagLen + nonceLen
)

// Errors callers test with errors.Is.
var (
	// ErrDecrypt reports a sealed value that is corrupt, was sealed for other
	// associated data, or under a key this keyring does not hold.
	ErrDecrypt = errors.New("cannot decrypt sealed value (corrupt, moved, or sealed under another master key)")
	// ErrBadKey reports a master key that is not 32 bytes of base64.
	ErrBadKey = errors.New("master key must be 32 random bytes, base64-encoded")
)

// key is one master key and its id (the first 8 bytes of its SHA-256).
type key struct {
	id   [idLen]byte
	aead cipher.AEAD
}

func newKey(raw []byte) (*key, error) {
	if len(raw) != KeySize {
		return nil, ErrBadKey
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, ErrBadKey
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, ErrBadKey
	}
	k := &key{aead: aead}
	sum := sha256.Sum256(raw)
	copy(k.id[:], sum[:idLen])
	return k, nil
}

// Keyring seals with its current master key and opens values sealed under
// any key it holds (the current one, plus a pending rotation's key). It is
// safe for concurrent use.
type Keyring struct {
	current *key
	others  []*key
}

// New returns a keyring whose current key is raw (32 bytes).
func New(raw []byte) (*Keyring, error) {
	k, err := newKey(raw)
	if err != nil {
		return nil, err
	}
	return &Keyring{current: k}, nil
}

// Generate returns a new random master key.
func Generate() []byte {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic("secret: crypto/rand failed: " + err.Error())
	}
	return b
}

// Encode formats a raw key for the key file or CUSTODIA_MASTER_KEY.
func Encode(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// Decode parses a base64 key (standard or URL alphabet, padded or not).
func Decode(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, ErrBadKey
}

// KeyID names the current master key (hex of the first 8 bytes of its
// SHA-256); it reveals nothing about the key.
func (k *Keyring) KeyID() string { return hex.EncodeToString(k.current.id[:]) }

// KeyIDOf returns the id of the master key a sealed value is wrapped with.
func KeyIDOf(sealed []byte) (string, error) {
	if len(sealed) < headerLen+tagLen || sealed[0] != version {
		return "", ErrDecrypt
	}
	return hex.EncodeToString(sealed[1 : 1+idLen]), nil
}

// Seal encrypts plaintext bound to associatedData (e.g. "totp:42"): the
// same associated data must be given to Open.
func (k *Keyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	dk := Generate()
	defer clear(dk)
	out := make([]byte, 0, headerLen+len(plaintext)+tagLen)
	out = append(out, version)
	out = append(out, k.current.id[:]...)
	out = k.wrap(out, dk)
	block, err := aes.NewCipher(dk)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	nonce := make([]byte, nonceLen)
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, associatedData), nil
}

// wrap appends nonce and the data key encrypted under the current key.
func (k *Keyring) wrap(out, dk []byte) []byte {
	nonce := make([]byte, nonceLen)
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return k.current.aead.Seal(out, nonce, dk, k.current.id[:])
}

func (k *Keyring) find(id []byte) *key {
	if bytes.Equal(k.current.id[:], id) {
		return k.current
	}
	for _, o := range k.others {
		if bytes.Equal(o.id[:], id) {
			return o
		}
	}
	return nil
}

// unwrap returns the data key of a sealed value.
func (k *Keyring) unwrap(sealed []byte) ([]byte, error) {
	if len(sealed) < headerLen+tagLen || sealed[0] != version {
		return nil, ErrDecrypt
	}
	id := sealed[1 : 1+idLen]
	mk := k.find(id)
	if mk == nil {
		return nil, ErrDecrypt
	}
	p := 1 + idLen
	nonce := sealed[p : p+nonceLen]
	wrapped := sealed[p+nonceLen : p+nonceLen+KeySize+tagLen]
	dk, err := mk.aead.Open(nil, nonce, wrapped, id)
	if err != nil {
		return nil, ErrDecrypt
	}
	return dk, nil
}

// Open decrypts a value sealed by Seal with the same associated data.
func (k *Keyring) Open(sealed, associatedData []byte) ([]byte, error) {
	dk, err := k.unwrap(sealed)
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	block, err := aes.NewCipher(dk)
	if err != nil {
		return nil, ErrDecrypt
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, ErrDecrypt
	}
	p := headerLen - nonceLen
	nonce := sealed[p : p+nonceLen]
	pt, err := aead.Open(nil, nonce, sealed[headerLen:], associatedData)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Rewrap returns sealed with its data key re-wrapped under k's current key.
// The data key is unwrapped with k or, failing that, with from (may be nil).
// The encrypted value itself is unchanged.
func (k *Keyring) Rewrap(sealed []byte, from *Keyring) ([]byte, error) {
	dk, err := k.unwrap(sealed)
	if err != nil && from != nil {
		dk, err = from.unwrap(sealed)
	}
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	out := make([]byte, 0, len(sealed))
	out = append(out, version)
	out = append(out, k.current.id[:]...)
	out = k.wrap(out, dk)
	return append(out, sealed[headerLen-nonceLen:]...), nil
}

// LoadOrCreate returns the master keyring: from envValue (the base64
// CUSTODIA_MASTER_KEY) when it is set, else from dataDir/master.key, which is
// created with mode 0600 (written to a temporary file, then renamed) when it
// does not exist. A master.key.new left by an interrupted rotation is loaded
// too, so values re-wrapped before the interruption still open.
func LoadOrCreate(dataDir, envValue string) (*Keyring, error) {
	if envValue != "" {
		raw, err := Decode(envValue)
		if err != nil {
			return nil, fmt.Errorf("CUSTODIA_MASTER_KEY: %w", err)
		}
		return New(raw)
	}
	if dataDir == "" {
		return nil, errors.New("master key: no data directory and no CUSTODIA_MASTER_KEY")
	}
	path := filepath.Join(dataDir, KeyFile)
	raw, err := readKeyFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("master key: create data dir %q: %w", dataDir, err)
		}
		raw = Generate()
		if err := writeKeyFile(path, raw); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	kr, err := New(raw)
	if err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	if pending, err := readKeyFile(filepath.Join(dataDir, pendingKeyFile)); err == nil {
		if pk, err := newKey(pending); err == nil {
			kr.others = append(kr.others, pk)
		}
	}
	return kr, nil
}

// Load reads dataDir/master.key (or envValue) without creating anything.
func Load(dataDir, envValue string) (*Keyring, error) {
	if envValue == "" {
		if _, err := os.Stat(filepath.Join(dataDir, KeyFile)); err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
	}
	return LoadOrCreate(dataDir, envValue)
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read master key %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// Tighten a key file left readable by others (e.g. copied by hand).
		_ = os.Chmod(path, 0o600)
	}
	raw, err := Decode(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	return raw, nil
}

// writeKeyFile writes raw (base64) to path with mode 0600 atomically: a
// temporary file in the same directory, synced, then renamed.
func writeKeyFile(path string, raw []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".master.key-*")
	if err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write master key: %w", err)
	}
	if _, err := f.WriteString(Encode(raw) + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write master key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Rotation is a master-key rotation in progress in a data directory; see Rotate.
type Rotation struct {
	dir string
	// Old is the keyring before rotation; New holds only the new key (and is
	// what the server uses afterwards).
	Old, New *Keyring
	// Resumed is true when the pending key of an interrupted rotation was reused.
	Resumed bool
}

// BeginRotation loads the current key of dataDir and creates the new one in
// master.key.new (mode 0600). If a previous rotation was interrupted, its
// pending key is reused, so values it already re-wrapped still open. The
// caller re-wraps every sealed value with New.Rewrap(v, Old) in one
// transaction and, once that committed, calls Commit.
func BeginRotation(dataDir string) (*Rotation, error) {
	old, err := Load(dataDir, "")
	if err != nil {
		return nil, err
	}
	pendingPath := filepath.Join(dataDir, pendingKeyFile)
	raw, err := readKeyFile(pendingPath)
	resumed := err == nil
	if errors.Is(err, os.ErrNotExist) {
		raw = Generate()
		if err := writeKeyFile(pendingPath, raw); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	nk, err := New(raw)
	if err != nil {
		return nil, err
	}
	return &Rotation{dir: dataDir, Old: old, New: nk, Resumed: resumed}, nil
}

// Commit makes the new key current: master.key becomes
// master.key.old-<timestamp> (keep it with the backups it opens, or delete it)
// and master.key.new becomes master.key.
func (r *Rotation) Commit(now time.Time) (oldPath string, err error) {
	cur := filepath.Join(r.dir, KeyFile)
	oldPath = filepath.Join(r.dir, KeyFile+".old-"+now.UTC().Format("20060102T150405Z"))
	if err := os.Link(cur, oldPath); err != nil {
		return "", fmt.Errorf("keep old master key: %w", err)
	}
	if err := os.Rename(filepath.Join(r.dir, pendingKeyFile), cur); err != nil {
		return "", fmt.Errorf("install new master key: %w", err)
	}
	syncDir(r.dir)
	return oldPath, nil
}

// Abort removes the pending key of a rotation whose re-wrap did not commit.
// A resumed rotation's key is kept: values may already be wrapped with it.
func (r *Rotation) Abort() error {
	if r.Resumed {
		return nil
	}
	return os.Remove(filepath.Join(r.dir, pendingKeyFile))
}
