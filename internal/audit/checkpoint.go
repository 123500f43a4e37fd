package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Checkpoint seals the chain up to Seq: an Ed25519 signature over
// (seq, hash, time, key id), stored with the public key so that a checkpoint
// signed by an earlier key still verifies after the key changes.
type Checkpoint struct {
	Seq       int64
	Hash      string // the Hash of entry Seq
	At        time.Time
	KeyID     string            // KeyID(PublicKey)
	PublicKey ed25519.PublicKey // 32 bytes
	Signature []byte            // 64 bytes
}

// checkpointDomain separates checkpoint signatures from any other use of the key.
const checkpointDomain = "custodia-audit-checkpoint-v1\n"

// Canonical returns the checkpoint's signed fields in canonical JSON (sorted
// members, no whitespace): {"at":…,"hash":…,"key_id":…,"seq":…}.
func (c *Checkpoint) Canonical() []byte {
	return c.appendCanonical(make([]byte, 0, 160))
}

func (c *Checkpoint) appendCanonical(b []byte) []byte {
	b = append(b, `{"at":"`...)
	b = c.At.UTC().AppendFormat(b, TimeLayout)
	b = append(b, `","hash":`...)
	b = appendString(b, c.Hash)
	b = append(b, `,"key_id":`...)
	b = appendString(b, c.KeyID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, c.Seq, 10)
	return append(b, '}')
}

// SignedMessage is what the signature covers: a domain string and the canonical fields.
func (c *Checkpoint) SignedMessage() []byte {
	return c.appendCanonical([]byte(checkpointDomain))
}

// CheckSignature verifies the checkpoint's signature with its own public key
// and that KeyID names that key.
func (c *Checkpoint) CheckSignature() error {
	if len(c.PublicKey) != ed25519.PublicKeySize {
		return errors.New("public key is not an Ed25519 key")
	}
	if c.KeyID != KeyID(c.PublicKey) {
		return fmt.Errorf("key id %q does not match its public key", c.KeyID)
	}
	if len(c.Signature) != ed25519.SignatureSize || !ed25519.Verify(c.PublicKey, c.SignedMessage(), c.Signature) {
		return errors.New("bad signature")
	}
	return nil
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// SigningKeyFile is the signing key's file name in the data directory.
const SigningKeyFile = "audit-signing.key"

// SigningKeyEnv supplies the signing key (base64 of the 32-byte Ed25519 seed)
// instead of the file.
const SigningKeyEnv = "CUSTODIA_AUDIT_SIGNING_KEY"

// SigningKey signs checkpoints. Its String never shows the private key.
type SigningKey struct {
	priv ed25519.PrivateKey
	id   string
}

// NewSigningKey wraps an Ed25519 seed (32 bytes).
func NewSigningKey(seed []byte) (*SigningKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit signing key: want a %d-byte Ed25519 seed, got %d bytes", ed25519.SeedSize, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &SigningKey{priv: priv, id: KeyID(priv.Public().(ed25519.PublicKey))}, nil
}

// GenerateSigningKey makes a new random key.
func GenerateSigningKey() (*SigningKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return NewSigningKey(seed)
}

// KeyID names the key (see KeyID).
func (k *SigningKey) KeyID() string { return k.id }

// PublicKey is the key checkpoints are verified with.
func (k *SigningKey) PublicKey() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// String names the key without revealing it.
func (k *SigningKey) String() string { return "audit signing key " + k.id }

// Sign makes the checkpoint sealing entry seq whose hash is hash.
func (k *SigningKey) Sign(seq int64, hash string, at time.Time) Checkpoint {
	c := Checkpoint{Seq: seq, Hash: hash, At: at.UTC().Truncate(time.Microsecond), KeyID: k.id, PublicKey: k.PublicKey()}
	c.Signature = ed25519.Sign(k.priv, c.SignedMessage())
	return c
}

// LoadSigningKey returns the key from $CUSTODIA_AUDIT_SIGNING_KEY or, failing
// that, from audit-signing.key in dataDir. With create it generates the file
// (mode 0600, written to a temporary file and renamed) when neither exists;
// without create a missing key is an error wrapping fs.ErrNotExist.
func LoadSigningKey(dataDir string, getenv func(string) string, create bool) (*SigningKey, error) {
	if getenv != nil {
		if v := strings.TrimSpace(getenv(SigningKeyEnv)); v != "" {
			seed, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("%s: not base64", SigningKeyEnv)
			}
			return NewSigningKey(seed)
		}
	}
	if dataDir == "" {
		return nil, fmt.Errorf("audit signing key: no data directory and no %s: %w", SigningKeyEnv, fs.ErrNotExist)
	}
	path := filepath.Join(dataDir, SigningKeyFile)
	k, err := readSigningKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !create {
		return k, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("audit signing key: create data dir: %w", err)
	}
	k, err = GenerateSigningKey()
	if err != nil {
		return nil, fmt.Errorf("audit signing key: generate: %w", err)
	}
	if err := writeSigningKey(path, k); err != nil {
		return nil, err
	}
	// Another process may have created the file first; the file on disk wins.
	return readSigningKey(path)
}

func readSigningKey(path string) (*SigningKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit signing key %s: mode %04o lets other users read it; run chmod 600 on it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: not base64", path)
	}
	k, err := NewSigningKey(seed)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	return k, nil
}

func writeSigningKey(path string, k *SigningKey) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-signing-*.tmp")
	if err != nil {
		return fmt.Errorf("audit signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("audit signing key: %w", err)
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(k.priv.Seed()) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("audit signing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("audit signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("audit signing key: %w", err)
	}
	// Link instead of rename so a key created concurrently is never replaced.
	// Link instead of rename so a key created concurrently is never replaced;
	// rename where the file system has no hard links.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("audit signing key: %w", err)
		}
	}
	return nil
}

// ParsePublicKey reads a public key given as base64 (as printed by
// "custodia audit key").
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("not a base64 Ed25519 public key (44 characters)")
	}
	return ed25519.PublicKey(b), nil
}
