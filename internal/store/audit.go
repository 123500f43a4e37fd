package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodia/custodia/internal/audit"
)

// auditLockKey is the PostgreSQL advisory lock that serializes appends to the
// chain ("custodia" in ASCII). On SQLite the single writer connection does.
const auditLockKey int64 = 0x637573746f646961

const auditEntryColumns = `seq, at, actor, COALESCE(actor_user_id, 0), action, object_type, object_id, COALESCE(client_id, 0),
	request_id, ip, before_digest, after_digest, detail, prev_hash, hash`

const auditInsert = `INSERT INTO audit_log (seq, at, actor, actor_user_id, action, object_type, object_id, client_id,
	request_id, ip, before_digest, after_digest, detail, prev_hash, hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Audit appends rec to the audit trail inside the transaction, so the entry
// commits or rolls back together with the change it records. The entry is
// chained to the current head (on PostgreSQL under a transaction-scoped
// advisory lock, so two transactions never chain on the same head; on SQLite
// the single writer serializes). Actor, request id and IP come from the
// context where rec leaves them empty; the time is now unless rec sets it.
func (tx *Tx) Audit(ctx context.Context, rec audit.Record) error {
	rec.Fill(ctx)
	if tx.dialect == Postgres {
		if _, err := tx.tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
			return fmt.Errorf("audit %s: lock chain head: %w", rec.Action, err)
		}
	}
	head, insert, err := tx.auditStmts(ctx)
	if err != nil {
		return fmt.Errorf("audit %s: %w", rec.Action, err)
	}
	defer head.Close()
	defer insert.Close()
	var seq int64
	var prev string
	if err := head.QueryRowContext(ctx).Scan(&seq, &prev); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit %s: read chain head: %w", rec.Action, err)
	}
	e, err := audit.NewEntry(rec, seq, prev)
	if err != nil {
		return err
	}
	_, err = insert.ExecContext(ctx,
		e.Seq, TimeArg(e.At), e.Actor, nullID(e.ActorUserID), e.Action, e.ObjectType, e.ObjectID, nullID(e.ClientID),
		e.RequestID, e.IP, e.BeforeDigest, e.AfterDigest, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit %s: append entry %d: %w", e.Action, e.Seq, mapErr(err))
	}
	return nil
}

const auditHeadQuery = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"

// auditStmts holds Tx.Audit's statements, prepared once per store: parsing
// them on every append cost more than the append itself on SQLite.
type auditStmts struct {
	mu     sync.Mutex
	head   *sql.Stmt
	insert *sql.Stmt
}

// prepareAuditStmts prepares Tx.Audit's statements on the write pool (once).
//
// The mutex is never held while preparing: preparing on the pool waits for a
// free connection, and on SQLite the only writer connection may belong to a
// transaction that is itself waiting for the mutex in auditStmts.
func (s *Store) prepareAuditStmts() {
	c := &s.auditStmts
	c.mu.Lock()
	ready := c.head != nil
	c.mu.Unlock()
	if ready {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	head, err := s.write.PrepareContext(ctx, auditHeadQuery)
	if err != nil {
		return // prepared per transaction until it works
	}
	insert, err := s.write.PrepareContext(ctx, s.Rebind(auditInsert))
	if err != nil {
		head.Close()
		return
	}
	c.mu.Lock()
	if c.head == nil {
		c.head, c.insert = head, insert
		head, insert = nil, nil
	}
	c.mu.Unlock()
	if head != nil { // another goroutine prepared them first
		head.Close()
		insert.Close()
	}
}

// auditStmts returns the transaction's handles on the prepared statements;
// the caller closes them.
func (tx *Tx) auditStmts(ctx context.Context) (head, insert *sql.Stmt, err error) {
	if s := tx.store; s != nil {
		c := &s.auditStmts
		c.mu.Lock()
		h, i := c.head, c.insert
		c.mu.Unlock()
		if h != nil {
			return tx.tx.StmtContext(ctx, h), tx.tx.StmtContext(ctx, i), nil
		}
		// Preparing on the pool needs a free connection, and on SQLite the
		// only writer connection is this transaction's: prepare for this
		// transaction now, and on the pool once it has committed.
		tx.AfterCommit(s.prepareAuditStmts)
	}
	if head, err = tx.tx.PrepareContext(ctx, auditHeadQuery); err != nil {
		return nil, nil, err
	}
	if insert, err = tx.tx.PrepareContext(ctx, rebind(tx.dialect, auditInsert)); err != nil {
		head.Close()
		return nil, nil, err
	}
	return head, insert, nil
}

// Audit appends one record in a transaction of its own, for events that
// change nothing else (a failed sign-in, an export).
func (s *Store) Audit(ctx context.Context, rec audit.Record) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.Audit(ctx, rec) })
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

type rowScanner interface{ Scan(dest ...any) error }

func scanAuditEntry(r rowScanner, e *audit.Entry) error {
	return r.Scan(&e.Seq, (*auditTime)(&e.At), &e.Actor, &e.ActorUserID, &e.Action, &e.ObjectType, &e.ObjectID, &e.ClientID,
		&e.RequestID, &e.IP, &e.BeforeDigest, &e.AfterDigest, &e.Detail, &e.PrevHash, &e.Hash)
}

// auditTime scans an entry's time, parsing the stored layout
// (2006-01-02T15:04:05.000000Z) by hand: verification reads every entry, and
// time.Parse was a sixth of the cost of reading one. Anything else goes
// through ScanTime.
type auditTime time.Time

func (a *auditTime) Scan(v any) error {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	}
	if t, ok := parseAuditTime(s); ok {
		*a = auditTime(t)
		return nil
	}
	return ScanTime((*time.Time)(a)).Scan(v)
}

func parseAuditTime(s string) (time.Time, bool) {
	if len(s) != len(TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	us, ok7 := num(20, 26)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC)
	// time.Date normalizes out-of-range fields; such a value is not in the layout.
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, false
	}
	return t, true
}

// AuditEntries returns a page of entries matching f, newest first, within
// f's client scope (see audit.Filter).
func (s *Store) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	var where []string
	var args []any
	if !f.AllClients {
		if len(f.ClientIDs) == 0 {
			return []audit.Entry{}, nil
		}
		where = append(where, "client_id IN ("+placeholders(len(f.ClientIDs))+")")
		for _, id := range f.ClientIDs {
			args = append(args, id)
		}
	}
	if f.ClientID != 0 {
		where = append(where, "client_id = ?")
		args = append(args, f.ClientID)
	}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.ObjectType != "" {
		where = append(where, "object_type = ?")
		args = append(args, f.ObjectType)
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = ?")
		args = append(args, f.ObjectID)
	}
	if f.Action != "" {
		if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
			where = append(where, "action LIKE ? ESCAPE '\\'")
			args = append(args, escapeLike(prefix)+"%")
		} else {
			where = append(where, "action = ?")
			args = append(args, f.Action)
		}
	}
	if !f.From.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, TimeArg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < ?")
		args = append(args, TimeArg(f.To))
	}
	if f.BeforeSeq > 0 {
		where = append(where, "seq < ?")
		args = append(args, f.BeforeSeq)
	}
	q := "SELECT " + auditEntryColumns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, f.PageSize())
	rows, err := s.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	out := []audit.Entry{}
	for rows.Next() {
		var e audit.Entry
		if err := scanAuditEntry(rows, &e); err != nil {
			return nil, fmt.Errorf("list audit entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AuditEntry returns entry seq.
func (s *Store) AuditEntry(ctx context.Context, seq int64) (*audit.Entry, error) {
	var e audit.Entry
	err := scanAuditEntry(s.QueryRow(ctx, "SELECT "+auditEntryColumns+" FROM audit_log WHERE seq = ?", seq), &e)
	if err != nil {
		return nil, fmt.Errorf("audit entry %d: %w", seq, mapErr(err))
	}
	return &e, nil
}

// EachAuditEntry calls fn for the entries with fromSeq <= seq <= toSeq (toSeq
// 0: no upper bound) in sequence order, streaming them from one query. The
// *Entry is reused between calls.
func (s *Store) EachAuditEntry(ctx context.Context, fromSeq, toSeq int64, fn func(*audit.Entry) error) error {
	q := "SELECT " + auditEntryColumns + " FROM audit_log WHERE seq >= ?"
	args := []any{fromSeq}
	if toSeq > 0 {
		q += " AND seq <= ?"
		args = append(args, toSeq)
	}
	rows, err := s.Query(ctx, q+" ORDER BY seq", args...)
	if err != nil {
		return fmt.Errorf("read audit entries: %w", err)
	}
	defer rows.Close()
	var e audit.Entry
	for rows.Next() {
		if err := scanAuditEntry(rows, &e); err != nil {
			return fmt.Errorf("read audit entries: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit entries: %w", err)
	}
	return nil
}

// AuditSeqRange returns the first and last sequence numbers of the entries
// written at or after from and before to (zero times: unbounded); both are 0
// when none match.
func (s *Store) AuditSeqRange(ctx context.Context, from, to time.Time) (first, last int64, err error) {
	q := "SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM audit_log WHERE 1 = 1"
	var args []any
	if !from.IsZero() {
		q += " AND at >= ?"
		args = append(args, TimeArg(from))
	}
	if !to.IsZero() {
		q += " AND at < ?"
		args = append(args, TimeArg(to))
	}
	if err := s.QueryRow(ctx, q, args...).Scan(&first, &last); err != nil {
		return 0, 0, fmt.Errorf("audit sequence range: %w", err)
	}
	return first, last, nil
}

const auditCheckpointColumns = "seq, at, hash, key_id, public_key, signature"

func scanAuditCheckpoint(r rowScanner, c *audit.Checkpoint) error {
	var pub, sig string
	if err := r.Scan(&c.Seq, ScanTime(&c.At), &c.Hash, &c.KeyID, &pub, &sig); err != nil {
		return err
	}
	// A value that does not decode is kept as it is so verification reports
	// the checkpoint as forged instead of failing to read it.
	var err error
	if c.PublicKey, err = base64.StdEncoding.DecodeString(pub); err != nil {
		c.PublicKey = []byte(pub)
	}
	if c.Signature, err = base64.StdEncoding.DecodeString(sig); err != nil {
		c.Signature = []byte(sig)
	}
	return nil
}

// AuditHead returns the last entry's sequence number and hash and the latest checkpoint.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := scanAuditCheckpoint(s.QueryRow(ctx, "SELECT "+auditCheckpointColumns+" FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"), &h.Sealed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("read audit checkpoint: %w", err)
	}
	err = s.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&h.Seq, &h.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("read audit chain head: %w", err)
	}
	return h, nil
}

// AddAuditCheckpoint stores a checkpoint after checking that entry c.Seq has
// hash c.Hash. A checkpoint already stored at that sequence number (another
// sealer got there first) is not an error.
func (s *Store) AddAuditCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var hash string
		if err := tx.QueryRow(ctx, "SELECT hash FROM audit_log WHERE seq = ?", c.Seq).Scan(&hash); err != nil {
			return fmt.Errorf("checkpoint at entry %d: %w", c.Seq, mapErr(err))
		}
		if hash != c.Hash {
			return fmt.Errorf("checkpoint at entry %d: the entry's hash differs from the one signed", c.Seq)
		}
		var exists int
		err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM audit_checkpoints WHERE seq = ?", c.Seq).Scan(&exists)
		if err != nil || exists > 0 {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO audit_checkpoints ("+auditCheckpointColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			c.Seq, TimeArg(c.At), c.Hash, c.KeyID,
			base64.StdEncoding.EncodeToString(c.PublicKey), base64.StdEncoding.EncodeToString(c.Signature))
		if err != nil && !errors.Is(mapErr(err), ErrConflict) {
			return fmt.Errorf("store checkpoint at entry %d: %w", c.Seq, err)
		}
		return nil
	})
}

// EachAuditCheckpoint calls fn for the checkpoints with fromSeq <= seq <=
// toSeq (toSeq 0: no upper bound) in sequence order.
func (s *Store) EachAuditCheckpoint(ctx context.Context, fromSeq, toSeq int64, fn func(*audit.Checkpoint) error) error {
	q := "SELECT " + auditCheckpointColumns + " FROM audit_checkpoints WHERE seq >= ?"
	args := []any{fromSeq}
	if toSeq > 0 {
		q += " AND seq <= ?"
		args = append(args, toSeq)
	}
	rows, err := s.Query(ctx, q+" ORDER BY seq", args...)
	if err != nil {
		return fmt.Errorf("read audit checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c audit.Checkpoint
		if err := scanAuditCheckpoint(rows, &c); err != nil {
			return fmt.Errorf("read audit checkpoints: %w", err)
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit checkpoints: %w", err)
	}
	return nil
}

// AuditStream calls entry and checkpoint for the chain fromSeq..toSeq (toSeq
// 0: up to the head when the call starts) in verification order: each
// checkpoint right after the entry it seals, and checkpoints beyond the last
// entry at the end (a sign that entries were removed). Checkpoints are read in
// pages alongside the one streaming query of entries.
func (s *Store) AuditStream(ctx context.Context, fromSeq, toSeq int64, entry func(*audit.Entry) error, checkpoint func(*audit.Checkpoint) error) error {
	if fromSeq < 1 {
		fromSeq = 1
	}
	if toSeq <= 0 {
		// Read the latest checkpoint before the head: a sealer only seals
		// committed entries, so a checkpoint beyond the head means removal.
		var sealed int64
		if err := s.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints").Scan(&sealed); err != nil {
			return fmt.Errorf("read audit checkpoints: %w", err)
		}
		if err := s.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM audit_log").Scan(&toSeq); err != nil {
			return fmt.Errorf("read audit chain head: %w", err)
		}
		toSeq = max(toSeq, sealed)
		if toSeq == 0 {
			return nil
		}
	}
	const page = 1000
	var cps []audit.Checkpoint
	next := fromSeq // the next checkpoint sequence number to load from
	done := false
	load := func() error {
		cps = cps[:0]
		err := s.EachAuditCheckpoint(ctx, next, toSeq, func(c *audit.Checkpoint) error {
			cps = append(cps, *c)
			if len(cps) == page {
				return errPageFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errPageFull) {
			return err
		}
		if len(cps) < page {
			done = true
		}
		if len(cps) > 0 {
			next = cps[len(cps)-1].Seq + 1
		}
		return nil
	}
	if err := load(); err != nil {
		return err
	}
	// emit sends the loaded checkpoints with seq <= upTo.
	emit := func(upTo int64) error {
		for {
			for len(cps) > 0 && cps[0].Seq <= upTo {
				if err := checkpoint(&cps[0]); err != nil {
					return err
				}
				cps = cps[1:]
			}
			if len(cps) > 0 || done {
				return nil
			}
			if err := load(); err != nil {
				return err
			}
		}
	}
	err := s.EachAuditEntry(ctx, fromSeq, toSeq, func(e *audit.Entry) error {
		if err := emit(e.Seq - 1); err != nil {
			return err
		}
		if err := entry(e); err != nil {
			return err
		}
		return emit(e.Seq)
	})
	if err != nil {
		return err
	}
	return emit(toSeq)
}

var errPageFull = errors.New("page full")

// auditItem is an entry or a checkpoint, in stream order.
type auditItem struct {
	e  audit.Entry
	cp *audit.Checkpoint
}

// VerifyAudit verifies the whole chain and its checkpoints in the database.
// Readers stream consecutive ranges of the chain concurrently (on the read
// pool) while one goroutine feeds them, in order, to the verifier.
func (s *Store) VerifyAudit(ctx context.Context, opts audit.VerifyOptions) (*audit.Report, error) {
	opts.FromSeq = 1
	v := audit.NewVerifier(opts)
	// The latest checkpoint is read before the head (see AuditStream).
	var sealed, head int64
	if err := s.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints").Scan(&sealed); err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	if err := s.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM audit_log").Scan(&head); err != nil {
		return nil, fmt.Errorf("read audit chain head: %w", err)
	}
	end := max(head, sealed)
	if end == 0 {
		return v.Finish(), nil
	}
	const chunk = 8192
	n := int((end + chunk - 1) / chunk)
	readers := min(4, max(2, runtime.GOMAXPROCS(0)), n)
	type result struct {
		items []auditItem
		err   error
	}
	results := make([]chan result, n)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	// A reader takes a slot before it takes the next range, and the slot is
	// given back when that range has been verified: the ranges in flight are
	// always the oldest ones, so the verifier never waits on a blocked reader.
	slots := make(chan struct{}, readers+2)
	var next atomic.Int64
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					<-slots
					return
				}
				from := int64(i)*chunk + 1
				to := min(from+chunk-1, end)
				items := make([]auditItem, 0, to-from+1)
				err := s.AuditStream(ctx, from, to,
					func(e *audit.Entry) error { items = append(items, auditItem{e: *e}); return nil },
					func(c *audit.Checkpoint) error { cp := *c; items = append(items, auditItem{cp: &cp}); return nil })
				results[i] <- result{items, err}
			}
		}()
	}
	for i := 0; i < n; i++ {
		res := <-results[i]
		if res.err != nil {
			return nil, res.err
		}
		for j := range res.items {
			if cp := res.items[j].cp; cp != nil {
				v.Checkpoint(*cp)
			} else {
				v.Entry(res.items[j].e)
			}
		}
		<-slots
	}
	return v.Finish(), nil
}
