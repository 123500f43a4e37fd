package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

var auditT0 = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

// appendAudit appends n entries, each in its own transaction; client ids
// cycle through 0 (operator-wide), 1 and 2.
func appendAudit(t testing.TB, s *store.Store, n int) {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 9, Name: "ana", RequestID: "req-1", IP: "192.0.2.1"})
	for i := 0; i < n; i++ {
		err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.Audit(ctx, audit.Record{
				Time: auditT0.Add(time.Duration(i) * time.Minute), Action: []string{"person.update", "person.create", "auth.login"}[i%3],
				ObjectType: "person", ObjectID: fmt.Sprint(i), ClientID: int64(i % 3),
				Before: map[string]any{"n": i}, After: map[string]any{"n": i + 1}, Detail: "n\u00famero",
			})
		})
		if err != nil {
			t.Fatalf("append entry %d: %v", i+1, err)
		}
	}
}

func sealAudit(t testing.TB, s *store.Store, key *audit.SigningKey) {
	t.Helper()
	if _, _, err := audit.Seal(context.Background(), s, key, time.Now()); err != nil {
		t.Fatalf("seal: %v", err)
	}
}

func testSigningKey(t testing.TB) *audit.SigningKey {
	k, err := audit.NewSigningKey(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAuditAppendAndVerify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		key := testSigningKey(t)
		appendAudit(t, s, 20)
		sealAudit(t, s, key)
		appendAudit(t, s, 10)
		sealAudit(t, s, key)
		appendAudit(t, s, 3) // unsealed tail

		rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{TrustedKeys: []ed25519.PublicKey{key.PublicKey()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		if rep.Entries != 33 || rep.Checkpoints != 2 || rep.SealedSeq != 30 || rep.Unsealed() != 3 {
			t.Errorf("report = %+v", rep)
		}
		e, err := s.AuditEntry(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if e.Actor != "ana" || e.ActorUserID != 9 || e.RequestID != "req-1" || e.IP != "192.0.2.1" || e.ClientID != 1 ||
			e.Action != "person.create" || !e.At.Equal(auditT0.Add(time.Minute)) || e.Detail != "n\u00famero" || len(e.BeforeDigest) != 64 {
			t.Errorf("AuditEntry(2) = %+v", e)
		}
		if _, err := s.AuditEntry(ctx, 999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AuditEntry(999) = %v, want ErrNotFound", err)
		}
		h, err := s.AuditHead(ctx)
		if err != nil || h.Seq != 33 || h.Sealed.Seq != 30 || h.Sealed.KeyID != key.KeyID() {
			t.Errorf("AuditHead = %+v, %v", h, err)
		}
	})
}

func TestAuditRollbackLeavesNoEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		appendAudit(t, s, 2)
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.Audit(ctx, audit.Record{Action: "person.delete"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		// Two entries in one transaction chain to each other.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.Audit(ctx, audit.Record{Action: "a.one"}); err != nil {
				return err
			}
			return tx.Audit(ctx, audit.Record{Action: "a.two"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Audit(ctx, audit.Record{Action: "auth.login_failed", Detail: "unknown user"}); err != nil {
			t.Fatal(err)
		}
		rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{})
		if err != nil || rep.Err() != nil || rep.Entries != 5 {
			t.Fatalf("VerifyAudit = %+v, %v", rep, err)
		}
		e, _ := s.AuditEntry(ctx, 5)
		if e.Actor != "system" || e.Action != "auth.login_failed" {
			t.Errorf("entry 5 = %+v", e)
		}
		if err := s.Audit(ctx, audit.Record{}); err == nil {
			t.Error("a record without an action was appended")
		}
	})
}

func TestAuditConcurrentAppends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					err := s.InTx(ctx, func(tx *store.Tx) error {
						return tx.Audit(ctx, audit.Record{Action: "token.use", ObjectID: fmt.Sprintf("%d-%d", w, i)})
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		// Seal while appends go on: every checkpoint must land on the chain.
		key := testSigningKey(t)
		for i := 0; i < 5; i++ {
			if _, _, err := audit.Seal(ctx, s, key, time.Now()); err != nil {
				t.Errorf("seal during appends: %v", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{})
		if err != nil || rep.Err() != nil || rep.Entries != workers*each {
			t.Fatalf("VerifyAudit = %+v, %v; want %d valid entries", rep, err, workers*each)
		}
	})
}

func TestAuditTriggersForbidChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		appendAudit(t, s, 3)
		sealAudit(t, s, testSigningKey(t))
		for _, q := range []string{
			"UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
			"DELETE FROM audit_log WHERE seq = 3",
			"DELETE FROM audit_log",
			"UPDATE audit_checkpoints SET hash = 'x'",
			"DELETE FROM audit_checkpoints",
		} {
			_, err := s.Exec(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the append-only refusal", q, err)
			}
		}
		if s.Dialect() == store.Postgres {
			for _, q := range []string{"TRUNCATE audit_log", "TRUNCATE audit_checkpoints"} {
				if _, err := s.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: err = %v, want the append-only refusal", q, err)
				}
			}
		}
		rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{})
		if err != nil || rep.Err() != nil || rep.Entries != 3 {
			t.Fatalf("after refused changes: %+v, %v", rep, err)
		}
	})
}

// dropAuditTriggers is what an attacker with database access would do first.
func dropAuditTriggers(t *testing.T, s *store.Store) {
	t.Helper()
	var qs []string
	if s.Dialect() == store.Postgres {
		qs = []string{"DROP TRIGGER audit_log_no_change ON audit_log", "DROP TRIGGER audit_checkpoints_no_change ON audit_checkpoints"}
	} else {
		qs = []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_checkpoints_no_update", "DROP TRIGGER audit_checkpoints_no_delete"}
	}
	for _, q := range qs {
		if _, err := s.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  []string
		kind    string
		seq     int64
		message string
	}{
		{"edited", []string{"UPDATE audit_log SET actor = 'mallory' WHERE seq = 17"}, audit.KindAltered, 17, "entry 17: hash mismatch — altered"},
		{"deleted", []string{"DELETE FROM audit_log WHERE seq = 17"}, audit.KindRemoved, 17, "entry 17 missing (sequence jumps 16 → 18) — removed"},
		{"swapped", []string{
			"UPDATE audit_log SET seq = -17 WHERE seq = 17",
			"UPDATE audit_log SET seq = 17 WHERE seq = 18",
			"UPDATE audit_log SET seq = 18 WHERE seq = -17",
		}, audit.KindReordered, 17, "entry 17 holds the entry written as 18 — reordered"},
		{"tail removed", []string{"DELETE FROM audit_log WHERE seq > 25"}, audit.KindRemoved, 26, "entries 26–30 missing"},
		{"forged checkpoint", []string{"UPDATE audit_checkpoints SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 20"}, audit.KindForged, 20, "checkpoint at entry 20: bad signature — forged or altered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				key := testSigningKey(t)
				appendAudit(t, s, 20)
				sealAudit(t, s, key)
				appendAudit(t, s, 10)
				sealAudit(t, s, key)
				dropAuditTriggers(t, s)
				for _, q := range tt.tamper {
					if _, err := s.Exec(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{})
				if err != nil {
					t.Fatal(err)
				}
				p := rep.EntryProblem
				if tt.kind == audit.KindForged {
					p = rep.CheckpointProblem
				}
				if p == nil || p.Kind != tt.kind || p.Seq != tt.seq || !strings.Contains(p.Message, tt.message) {
					t.Fatalf("problem = %+v, want %s at %d: %q (error: %v)", p, tt.kind, tt.seq, tt.message, rep.Err())
				}
			})
		})
	}
}

func TestAuditSealRefusesTamperedTail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		key := testSigningKey(t)
		appendAudit(t, s, 5)
		sealAudit(t, s, key)
		appendAudit(t, s, 5)
		dropAuditTriggers(t, s)
		if _, err := s.Exec(context.Background(), "UPDATE audit_log SET detail = 'x' WHERE seq = 8"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := audit.Seal(context.Background(), s, key, time.Now()); err == nil || !strings.Contains(err.Error(), "entry 8: hash mismatch") {
			t.Fatalf("Seal over a tampered tail = %v, want refusal naming entry 8", err)
		}
	})
}

func TestAuditEntriesFilterAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		appendAudit(t, s, 12) // client ids 0,1,2,0,1,2…; actions update,create,login…
		count := func(f audit.Filter) []int64 {
			t.Helper()
			es, err := s.AuditEntries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			seqs := []int64{}
			for _, e := range es {
				seqs = append(seqs, e.Seq)
			}
			return seqs
		}
		tests := []struct {
			name string
			f    audit.Filter
			want string
		}{
			{"all", audit.Filter{AllClients: true, Limit: 5}, "[12 11 10 9 8]"},
			{"next page", audit.Filter{AllClients: true, Limit: 5, BeforeSeq: 8}, "[7 6 5 4 3]"},
			{"scoped to client 1", audit.Filter{ClientIDs: []int64{1}}, "[11 8 5 2]"},
			{"scoped to 1 and 2", audit.Filter{ClientIDs: []int64{1, 2}, Limit: 3}, "[12 11 9]"},
			{"no scope sees nothing", audit.Filter{}, "[]"},
			{"client filter outside scope", audit.Filter{ClientIDs: []int64{1}, ClientID: 2}, "[]"},
			{"client filter", audit.Filter{AllClients: true, ClientID: 2}, "[12 9 6 3]"},
			{"action", audit.Filter{AllClients: true, Action: "auth.login"}, "[12 9 6 3]"},
			{"action prefix", audit.Filter{AllClients: true, Action: "person.*", Limit: 3}, "[11 10 8]"},
			{"object", audit.Filter{AllClients: true, ObjectType: "person", ObjectID: "4"}, "[5]"},
			{"actor", audit.Filter{AllClients: true, Actor: "nobody"}, "[]"},
			{"time range", audit.Filter{AllClients: true, From: auditT0.Add(2 * time.Minute), To: auditT0.Add(5 * time.Minute)}, "[5 4 3]"},
		}
		for _, tt := range tests {
			if got := fmt.Sprint(count(tt.f)); got != tt.want {
				t.Errorf("%s: AuditEntries(%+v) = %s, want %s", tt.name, tt.f, got, tt.want)
			}
		}
		first, last, err := s.AuditSeqRange(ctx, auditT0.Add(2*time.Minute), auditT0.Add(5*time.Minute))
		if err != nil || first != 3 || last != 5 {
			t.Errorf("AuditSeqRange = %d, %d, %v; want 3, 5", first, last, err)
		}
	})
}

func TestAuditExportRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		key := testSigningKey(t)
		appendAudit(t, s, 15)
		sealAudit(t, s, key)
		appendAudit(t, s, 5)
		sealAudit(t, s, key)
		var buf bytes.Buffer
		x, err := audit.NewExportWriter(&buf, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AuditStream(ctx, 1, 0, x.Entry, x.Checkpoint); err != nil {
			t.Fatal(err)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.VerifyExport(&buf, audit.ExportOptions{Full: true, VerifyOptions: audit.VerifyOptions{RequireSealed: true, TrustedKeys: []ed25519.PublicKey{key.PublicKey()}}})
		if err != nil || rep.Err() != nil || rep.Entries != 20 || rep.Checkpoints != 2 {
			t.Fatalf("VerifyExport = %+v, %v", rep, err)
		}
	})
}

// TestAuditVerifyAcrossRanges covers chains longer than one verification
// range (8192 entries), read concurrently: a removal at the boundary, a
// checkpoint on it, and cancellation.
func TestAuditVerifyAcrossRanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		key := testSigningKey(t)
		for i := 0; i < 10; i++ {
			n := 1000
			switch i {
			case 8:
				n = 192 // a checkpoint exactly at entry 8192, the end of the first range
			case 9:
				n = 8
			}
			err := s.InTx(ctx, func(tx *store.Tx) error {
				for j := 0; j < n; j++ {
					if err := tx.Audit(ctx, audit.Record{Action: "person.import", ObjectID: fmt.Sprint(j)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sealAudit(t, s, key)
		}
		rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{RequireSealed: true})
		if err != nil || rep.Err() != nil || rep.Entries != 8200 || rep.Checkpoints != 10 {
			t.Fatalf("VerifyAudit = %+v, %v", rep, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.VerifyAudit(cctx, audit.VerifyOptions{}); err == nil {
			t.Error("VerifyAudit with a cancelled context succeeded")
		}
		dropAuditTriggers(t, s)
		if _, err := s.Exec(ctx, "DELETE FROM audit_log WHERE seq IN (8192, 8193)"); err != nil {
			t.Fatal(err)
		}
		rep, err = s.VerifyAudit(ctx, audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p := rep.EntryProblem; p == nil || !strings.Contains(p.Message, "entries 8192–8193 missing (sequence jumps 8191 → 8194) — removed") {
			t.Fatalf("problem = %+v", p)
		}
	})
}

func TestAuditSealerOnStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		key := testSigningKey(t)
		sealer := audit.NewSealer(s, key, audit.SealerOptions{Every: 10, Interval: time.Hour, Poll: 5 * time.Millisecond}, nil)
		sealer.Start(ctx)
		appendAudit(t, s, 12)
		deadline := time.Now().Add(20 * time.Second)
		for {
			h, err := s.AuditHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h.Sealed.Seq >= 10 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint after 12 entries with Every=10: head %+v", h)
			}
			time.Sleep(10 * time.Millisecond)
		}
		appendAudit(t, s, 3) // fewer than Every: sealed only by the final seal
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := sealer.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
		rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{RequireSealed: true, TrustedKeys: []ed25519.PublicKey{key.PublicKey()}})
		if err != nil || rep.Err() != nil || rep.SealedSeq != 15 {
			t.Fatalf("after shutdown: %+v, %v; want everything sealed", rep, err)
		}
	})
}
