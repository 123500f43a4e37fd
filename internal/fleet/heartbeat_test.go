package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestHeartbeat drives the heartbeat path (a small body without results,
// authenticated and stored in one statement) and the results path side by
// side through the router: refusals say the same as before the body is
// read, a sequence is accepted once even when sent concurrently, results
// are applied once, and a body too large for the heartbeat path still
// works.
func TestHeartbeat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		ctx := context.Background()
		d, code := r.enroll(r.secretA, "hw-hb")
		if code != 200 {
			t.Fatalf("enroll = %d", code)
		}
		code, resp := d.checkin(wire.CheckinRequest{Heartbeat: wire.Heartbeat{SessionUser: "ana", AgentVersion: "1.1", UptimeS: 5}})
		if code != 200 || resp.Bundle == nil {
			t.Fatalf("first heartbeat = %d %+v, want 200 with the bundle", code, resp)
		}
		digest := resp.Bundle.Digest
		dev, err := st.FleetDevice(ctx, r.scopeAll, d.id)
		if err != nil {
			t.Fatal(err)
		}
		if dev.SessionUser != "ana" || dev.AgentVersion != "1.1" || dev.UptimeS != 5 {
			t.Errorf("device after heartbeat = %q %q %d, want ana 1.1 5", dev.SessionUser, dev.AgentVersion, dev.UptimeS)
		}
		hb, _ := json.Marshal(wire.CheckinRequest{PolicyDigest: digest})
		d.seq++
		if code, b := d.send(wire.PathCheckin, d.seq, r.svc.now(), hb); code != 200 || bytes.Contains(b, []byte("bundle")) {
			t.Fatalf("unchanged heartbeat = %d %s, want 200 without the bundle", code, b)
		}

		// Refusals.
		bad := &device{r: r, cred: wire.FormatCredential(d.id, make([]byte, wire.CredentialLen))}
		unknown := &device{r: r, cred: wire.FormatCredential(d.id+1000, make([]byte, wire.CredentialLen))}
		for _, tc := range []struct {
			name string
			dev  *device
			seq  int64
			body []byte
			want int
		}{
			{"replayed sequence", d, d.seq, hb, 409},
			{"older sequence", d, d.seq - 1, hb, 409},
			{"forged credential", bad, d.seq + 10, hb, 401},
			{"unknown device", unknown, 1, hb, 401},
			{"malformed body, forged credential", bad, d.seq + 10, []byte(`{"heartbeat":`), 401},
			{"malformed body, replayed sequence", d, d.seq, []byte(`{"heartbeat":`), 409},
			{"malformed body", d, d.seq + 10, []byte(`{"heartbeat":`), 400},
			{"zero sequence", d, 0, hb, 401},
		} {
			if code, b := tc.dev.send(wire.PathCheckin, tc.seq, r.svc.now(), tc.body); code != tc.want {
				t.Errorf("%s = %d %s, want %d", tc.name, code, b, tc.want)
			}
		}

		// One sequence sent eight times at once: accepted once.
		d.seq++
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := d.send(wire.PathCheckin, d.seq, r.svc.now(), hb)
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[200] != 1 || codes[409] != 7 {
			t.Errorf("concurrent heartbeats with one sequence = %v, want one 200 and seven 409", codes)
		}

		// Results are applied once: the replay of a check-in with results
		// is refused and the history has one entry.
		d.seq++
		body, _ := json.Marshal(wire.CheckinRequest{PolicyDigest: digest, Results: []wire.Result{result("usb", "failed")}})
		if code, b := d.send(wire.PathCheckin, d.seq, r.svc.now(), body); code != 200 {
			t.Fatalf("check-in with results = %d %s", code, b)
		}
		if code, _ := d.send(wire.PathCheckin, d.seq, r.svc.now(), body); code != 409 {
			t.Errorf("replayed check-in with results = %d, want 409", code)
		}
		// A heartbeat cannot reuse the sequence of a check-in with results.
		if code, _ := d.send(wire.PathCheckin, d.seq, r.svc.now(), hb); code != 409 {
			t.Errorf("heartbeat with the sequence of the results = %d, want 409", code)
		}
		det, err := r.svc.Device(ctx, r.scopeAll, d.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(det.History) != 1 {
			t.Errorf("history = %d entries, want 1", len(det.History))
		}

		// A heartbeat body too large to be read before authentication goes
		// the authenticated way, and works.
		d.seq++
		big := append(bytes.Repeat([]byte(" "), maxHeartbeatBytes+1), hb...)
		if code, b := d.send(wire.PathCheckin, d.seq, r.svc.now(), big); code != 200 {
			t.Errorf("large heartbeat = %d %s, want 200", code, b)
		}
		if code, _ := bad.send(wire.PathCheckin, d.seq+1, r.svc.now(), big); code != 401 {
			t.Errorf("large heartbeat with a forged credential = %d, want 401", code)
		}

		// Revocation takes effect on the very next heartbeat.
		if err := r.svc.Revoke(ctx, r.scopeAll, d.id); err != nil {
			t.Fatal(err)
		}
		d.seq++
		if code, _ := d.send(wire.PathCheckin, d.seq, r.svc.now(), hb); code != 401 {
			t.Errorf("heartbeat of a revoked device = %d, want 401", code)
		}
	})
}
