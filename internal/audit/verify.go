package audit

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"sort"
	"strings"
)

// Problem kinds a Verifier reports.
const (
	KindAltered   = "altered"   // an entry's contents or hash were changed
	KindRemoved   = "removed"   // entries are missing from the sequence
	KindReordered = "reordered" // an entry appears out of sequence order
	KindForged    = "forged"    // a checkpoint's signature does not verify (or names an untrusted key)
	KindRewritten = "rewritten" // the chain no longer matches a valid checkpoint
	KindUnsealed  = "unsealed"  // entries not covered by any checkpoint where the caller requires it
	KindMalformed = "malformed" // an export line that cannot be read
)

// Problem is one finding. Seq names the first entry concerned (for checkpoint
// problems, the entry the checkpoint seals).
type Problem struct {
	Seq     int64
	Kind    string
	Message string
}

func (p *Problem) String() string { return p.Message }

// VerifyOptions tunes a Verifier.
type VerifyOptions struct {
	// TrustedKeys, when not empty, are the only public keys checkpoints may be
	// signed with (pin them with --public-key). When empty, any checkpoint
	// whose signature verifies with its own stored key is accepted and the
	// report lists the key ids seen.
	TrustedKeys []ed25519.PublicKey
	// FromSeq is the first entry expected; 0 or 1 means the whole chain from
	// entry 1 (whose prev_hash must be GenesisHash). A larger value verifies a
	// partial export whose first prev_hash cannot be checked.
	FromSeq int64
	// PrevHash, with FromSeq > 1, is the hash entry FromSeq-1 is known to have
	// (from a trusted checkpoint), so the first link is checked too.
	PrevHash string
	// RequireSealed makes entries after the last valid checkpoint a problem.
	RequireSealed bool

	// checkSignature replaces Checkpoint.CheckSignature (the fuzz test memoizes it).
	checkSignature func(*Checkpoint) error
}

// Report is the outcome of a verification.
type Report struct {
	Entries     int64 // entries read
	FirstSeq    int64
	LastSeq     int64
	LastHash    string
	Checkpoints int64 // checkpoints read
	// SealedSeq is the highest entry covered by a valid checkpoint whose hash matched.
	SealedSeq int64
	// Keys counts the valid checkpoints by signing key id.
	Keys map[string]int64
	// EntryProblem is the first altered, removed or reordered entry (nil if none).
	EntryProblem *Problem
	// CheckpointProblem is the first bad checkpoint (nil if none).
	CheckpointProblem *Problem
	// Problems counts every finding; verification continues after the first.
	Problems int64
}

// OK reports whether nothing was found wrong.
func (r *Report) OK() bool { return r.Problems == 0 }

// Unsealed is the number of entries after the last checkpoint.
func (r *Report) Unsealed() int64 {
	if r.LastSeq <= r.SealedSeq {
		return 0
	}
	if r.SealedSeq < r.FirstSeq {
		return r.LastSeq - r.FirstSeq + 1
	}
	return r.LastSeq - r.SealedSeq
}

// KeyIDs lists the key ids that signed valid checkpoints, sorted.
func (r *Report) KeyIDs() []string {
	ids := make([]string, 0, len(r.Keys))
	for id := range r.Keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Err is nil when the report is OK, otherwise a *VerifyError.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return &VerifyError{Report: r}
}

// VerifyError reports a failed verification; its message names the first bad
// entry and the first bad checkpoint.
type VerifyError struct{ Report *Report }

func (e *VerifyError) Error() string {
	var parts []string
	if p := e.Report.EntryProblem; p != nil {
		parts = append(parts, p.Message)
	}
	if p := e.Report.CheckpointProblem; p != nil {
		parts = append(parts, p.Message)
	}
	return fmt.Sprintf("audit trail verification failed (%d problems): %s", e.Report.Problems, strings.Join(parts, "; "))
}

// ExitCode makes a failed verification exit with status 1.
func (e *VerifyError) ExitCode() int { return 1 }

// Verifier checks a stream of entries (in sequence order) and checkpoints
// (each after the entry it seals): sequence continuity, every prev_hash, every
// hash, every checkpoint's signature and that the checkpointed hash is the one
// at that sequence. It keeps O(1) state, so it verifies chains of any length.
type Verifier struct {
	opts    VerifyOptions
	trusted map[string]ed25519.PublicKey
	rep     Report

	expect   int64  // next sequence number expected
	prevHash string // stored hash of the last entry checked; "" when unknown
	held     *Entry // an entry that arrived early (a gap), kept one step to tell removal from reordering
	// pending are checkpoints for entries not seen yet.
	pending map[int64]Checkpoint
	// lastGoodSeal is the highest checkpoint that matched the chain, for naming rewrites.
	lastGoodSeal int64
	buf          []byte
}

// NewVerifier returns a Verifier for a stream starting at opts.FromSeq.
func NewVerifier(opts VerifyOptions) *Verifier {
	v := &Verifier{opts: opts, pending: map[int64]Checkpoint{}, buf: make([]byte, 0, 512)}
	if v.opts.FromSeq <= 1 {
		v.opts.FromSeq = 1
		v.prevHash = GenesisHash
	} else {
		v.prevHash = opts.PrevHash
	}
	v.expect = v.opts.FromSeq
	v.lastGoodSeal = v.opts.FromSeq - 1
	v.rep.Keys = map[string]int64{}
	if len(opts.TrustedKeys) > 0 {
		v.trusted = map[string]ed25519.PublicKey{}
		for _, k := range opts.TrustedKeys {
			v.trusted[KeyID(k)] = k
		}
	}
	return v
}

func (v *Verifier) entryProblem(seq int64, kind, format string, args ...any) {
	v.rep.Problems++
	if v.rep.EntryProblem == nil {
		v.rep.EntryProblem = &Problem{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)}
	}
}

func (v *Verifier) checkpointProblem(seq int64, kind, format string, args ...any) {
	v.rep.Problems++
	if v.rep.CheckpointProblem == nil {
		v.rep.CheckpointProblem = &Problem{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)}
	}
}

// Malformed records an unreadable input line (export files).
func (v *Verifier) Malformed(line int64, err error) {
	v.rep.Problems++
	if v.rep.EntryProblem == nil {
		v.rep.EntryProblem = &Problem{Seq: v.expect, Kind: KindMalformed, Message: fmt.Sprintf("line %d: %v — malformed", line, err)}
	}
}

// Entry feeds the next entry.
func (v *Verifier) Entry(e Entry) {
	if h := v.held; h != nil {
		v.held = nil
		if e.Seq == v.expect {
			v.entryProblem(e.Seq, KindReordered, "entry %d appears after entry %d — reordered", e.Seq, h.Seq)
			v.check(e)
			v.check(*h)
			return
		}
		v.gap(*h)
	}
	switch {
	case e.Seq == v.expect:
		v.check(e)
	case e.Seq > v.expect:
		v.held = &e
	case e.Seq == v.rep.LastSeq && v.rep.Entries > 0:
		v.entryProblem(e.Seq, KindReordered, "entry %d appears twice — duplicated or reordered", e.Seq)
	default:
		v.entryProblem(e.Seq, KindReordered, "entry %d appears after entry %d — reordered", e.Seq, v.rep.LastSeq)
	}
}

// gap reports the entries missing before h and resumes the chain at h.
func (v *Verifier) gap(h Entry) {
	if h.Seq-1 == v.expect {
		v.entryProblem(v.expect, KindRemoved, "entry %d missing (sequence jumps %d → %d) — removed", v.expect, v.expect-1, h.Seq)
	} else {
		v.entryProblem(v.expect, KindRemoved, "entries %d–%d missing (sequence jumps %d → %d) — removed", v.expect, h.Seq-1, v.expect-1, h.Seq)
	}
	v.prevHash = "" // the link to h cannot be checked
	for seq := range v.pending {
		if seq < h.Seq {
			delete(v.pending, seq) // it sealed a removed entry; the removal is reported
		}
	}
	v.check(h)
}

// check verifies e, which is next in sequence (or resumes after a gap).
func (v *Verifier) check(e Entry) {
	got := e.computed
	if got == "" {
		v.buf = e.AppendCanonical(v.buf[:0])
		got = hashHex(v.buf)
	}
	switch {
	case got != e.Hash:
		if from := movedFrom(e); from != 0 {
			v.entryProblem(e.Seq, KindReordered, "entry %d holds the entry written as %d — reordered", e.Seq, from)
		} else {
			v.entryProblem(e.Seq, KindAltered, "entry %d: hash mismatch — altered", e.Seq)
		}
	case v.prevHash != "" && e.PrevHash != v.prevHash:
		if e.Seq == 1 {
			v.entryProblem(e.Seq, KindAltered, "entry 1: prev_hash is not the genesis value — altered")
		} else {
			v.entryProblem(e.Seq-1, KindAltered, "entry %d: altered — its hash was recomputed and no longer matches the prev_hash of entry %d", e.Seq-1, e.Seq)
		}
	}
	if v.rep.Entries == 0 {
		v.rep.FirstSeq = e.Seq
	}
	v.rep.Entries++
	v.rep.LastSeq = e.Seq
	v.rep.LastHash = e.Hash
	v.prevHash = e.Hash
	v.expect = e.Seq + 1
	if len(v.pending) > 0 {
		if c, ok := v.pending[e.Seq]; ok {
			delete(v.pending, e.Seq)
			v.seal(c)
		}
	}
}

// movedFrom reports the nearby sequence number e's contents and hash were
// written with, when rows were renumbered (moved) rather than edited; 0 if none.
func movedFrom(e Entry) int64 {
	for d := int64(-4); d <= 4; d++ {
		if d == 0 || e.Seq+d < 1 {
			continue
		}
		m := e
		m.Seq = e.Seq + d
		if m.ComputeHash() == e.Hash {
			return m.Seq
		}
	}
	return 0
}

// Checkpoint feeds a checkpoint; it belongs after the entry it seals.
func (v *Verifier) Checkpoint(c Checkpoint) {
	v.rep.Checkpoints++
	check := v.opts.checkSignature
	if check == nil {
		check = (*Checkpoint).CheckSignature
	}
	if err := check(&c); err != nil {
		v.checkpointProblem(c.Seq, KindForged, "checkpoint at entry %d: %v — forged or altered", c.Seq, err)
		return
	}
	if v.trusted != nil {
		if k, ok := v.trusted[c.KeyID]; !ok || !bytes.Equal(k, c.PublicKey) {
			v.checkpointProblem(c.Seq, KindForged, "checkpoint at entry %d: signed by key %s, which is not trusted — forged", c.Seq, c.KeyID)
			return
		}
	}
	switch {
	case v.rep.Entries > 0 && c.Seq == v.rep.LastSeq:
		v.seal(c)
	case c.Seq >= v.expect:
		v.pending[c.Seq] = c
	case c.Seq < v.opts.FromSeq:
		// A checkpoint of an entry before this partial export: its signature
		// is all that can be checked.
		v.rep.Keys[c.KeyID]++
	default:
		v.checkpointProblem(c.Seq, KindReordered, "checkpoint at entry %d appears after entry %d — reordered", c.Seq, v.rep.LastSeq)
	}
}

// seal checks a validly signed checkpoint against the entry it names (the last one checked).
func (v *Verifier) seal(c Checkpoint) {
	if c.Hash != v.prevHash {
		v.checkpointProblem(c.Seq, KindRewritten, "checkpoint at entry %d: signed hash differs from the entry's — entries were rewritten", c.Seq)
		v.entryProblem(v.lastGoodSeal+1, KindRewritten, "entries %d–%d were rewritten: entry %d no longer has the hash its signed checkpoint sealed", v.lastGoodSeal+1, c.Seq, c.Seq)
		return
	}
	v.rep.Keys[c.KeyID]++
	if c.Seq > v.rep.SealedSeq {
		v.rep.SealedSeq = c.Seq
	}
	v.lastGoodSeal = c.Seq
}

// Finish ends the stream and returns the report.
func (v *Verifier) Finish() *Report {
	if h := v.held; h != nil {
		v.held = nil
		v.gap(*h)
	}
	if len(v.pending) > 0 {
		seqs := make([]int64, 0, len(v.pending))
		for s := range v.pending {
			seqs = append(seqs, s)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		max := seqs[len(seqs)-1]
		from := v.expect
		if seqs[0] < from {
			from = seqs[0]
		}
		if from == max {
			v.entryProblem(from, KindRemoved, "entry %d missing (a checkpoint seals it but the chain ends at %d) — removed", from, v.rep.LastSeq)
		} else {
			v.entryProblem(from, KindRemoved, "entries %d–%d missing (a checkpoint seals entry %d but the chain ends at %d) — removed", from, max, max, v.rep.LastSeq)
		}
		v.pending = map[int64]Checkpoint{}
	}
	if v.opts.RequireSealed && v.rep.Unsealed() > 0 {
		from := v.rep.SealedSeq + 1
		if from < v.rep.FirstSeq {
			from = v.rep.FirstSeq
		}
		v.entryProblem(from, KindUnsealed, "entries %d–%d are not covered by any checkpoint — unsealed", from, v.rep.LastSeq)
	}
	rep := v.rep
	return &rep
}
