package agentclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/posture"
)

// The queue is a directory of numbered files, one per message, each written
// to a temporary file, fsynced and renamed: appending is atomic and
// durable, and messages are sent in their order. A message is removed only
// once the server accepted it, so a desk offline for days loses nothing.
const queueDir = "queue"

// Message is one queued message: a batch of changed results or a desk report.
type Message struct {
	Kind    string              `json:"kind"` // results, report
	Results []wire.Result       `json:"results,omitempty"`
	Report  *wire.ReportRequest `json:"report,omitempty"`
}

// Enqueue appends m to the queue.
func (c *Client) Enqueue(m Message) error {
	dir := filepath.Join(c.dir, queueDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	names, err := queued(dir)
	if err != nil {
		return err
	}
	next := c.now().UnixNano()
	if n := len(names); n > 0 {
		last, _ := strconv.ParseInt(strings.TrimSuffix(names[n-1], ".json"), 10, 64)
		next = max(next, last+1)
	}
	return writeFileSync(filepath.Join(dir, fmt.Sprintf("%020d.json", next)), b)
}

func queued(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".json") && !e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Pending counts the queued messages.
func (c *Client) Pending() int {
	names, _ := queued(filepath.Join(c.dir, queueDir))
	return len(names)
}

// Flush sends the queued messages in order (results with a check-in, reports
// to the report endpoint) and, when the queue is empty, a heartbeat-only
// check-in. It stops at the first failure, keeping what was not sent. It
// answers the last check-in response (nil if only reports were sent) and
// the references of the reports sent.
func (c *Client) Flush(ctx context.Context, hb wire.Heartbeat) (*wire.CheckinResponse, []string, error) {
	unlock, err := c.lock()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	dir := filepath.Join(c.dir, queueDir)
	names, err := queued(dir)
	if err != nil {
		return nil, nil, err
	}
	var last *wire.CheckinResponse
	var refs []string
	for _, n := range names {
		path := filepath.Join(dir, n)
		b, err := os.ReadFile(path)
		if err != nil {
			return last, refs, err
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			// A corrupt message (a torn write cannot happen: rename is
			// atomic) is set aside rather than blocking the queue.
			_ = os.Rename(path, path+".bad")
			continue
		}
		switch m.Kind {
		case "report":
			resp, err := c.Report(ctx, *m.Report)
			if rejected(err) {
				_ = os.Rename(path, path+".rejected")
				continue
			}
			if err != nil {
				return last, refs, err
			}
			refs = append(refs, resp.Reference)
		default:
			resp, err := c.Checkin(ctx, hb, m.Results)
			if rejected(err) {
				_ = os.Rename(path, path+".rejected")
				continue
			}
			if err != nil {
				return last, refs, err
			}
			last = resp
		}
		if err := os.Remove(path); err != nil {
			return last, refs, err
		}
		syncDir(dir)
	}
	if last == nil {
		resp, err := c.Checkin(ctx, hb, nil)
		if err != nil {
			return nil, refs, err
		}
		last = resp
	}
	return last, refs, nil
}

// rejected reports a message the server refuses for what it holds (400
// malformed, 413 too large): retrying cannot help, so it is set aside
// (queue/*.rejected, kept for inspection) instead of blocking the queue.
func rejected(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Status == 400 || se.Status == 413)
}

// lock takes the state directory's lock (the running agent and a
// "custodia-agent report" command share the sequence number and the
// queue). A lock older than two minutes is considered abandoned.
func (c *Client) lock() (func(), error) {
	path := filepath.Join(c.dir, "lock")
	deadline := time.Now().Add(30 * time.Second)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { _ = os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > 2*time.Minute {
			_ = os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the agent's state directory is busy (another custodia-agent is sending)")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func resultKey(policy, id, user string) string { return policy + "\x00" + id + "\x00" + user }

func resultDigest(r wire.Result) string {
	h := sha256.New()
	h.Write([]byte(r.Result + "\x00" + r.Reason + "\x00" + r.Title + "\x00"))
	h.Write(r.Evidence)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Changes turns a check run into the results that changed since the last
// queued ones, and records them as queued (call Enqueue with them first
// when the result is not empty, then MarkQueued).
func (c *Client) Changes(rep posture.Report) []wire.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []wire.Result
	for _, p := range rep.Policies {
		for _, ch := range p.Checks {
			ev, _ := json.Marshal(ch.Evidence)
			if len(ev) > wire.MaxEvidence {
				ev = []byte(`[{"rule":"(evidence too long)","result":"` + string(ch.Result) + `"}]`)
			}
			r := wire.Result{Policy: trim(p.Policy, wire.MaxField), ID: trim(ch.ID, wire.MaxField), Title: trim(ch.Title, wire.MaxField),
				Result: string(ch.Result), Reason: trim(ch.Reason, wire.MaxReason), Evidence: ev, SessionUser: trim(rep.User, wire.MaxField)}
			if r.Policy == "" || r.ID == "" || !wire.ValidResult(r.Result) {
				continue
			}
			if c.st.Sent[resultKey(r.Policy, r.ID, r.SessionUser)] != resultDigest(r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// MarkQueued records results as queued (so they are not queued again) and
// saves the state.
func (c *Client) MarkQueued(rs []wire.Result) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rs {
		c.st.Sent[resultKey(r.Policy, r.ID, r.SessionUser)] = resultDigest(r)
	}
	return c.saveLocked()
}

// QueueResults queues the changes of a check run (if any) and reports how
// many results changed.
func (c *Client) QueueResults(rep posture.Report) (int, error) {
	rs := c.Changes(rep)
	if len(rs) == 0 {
		return 0, nil
	}
	for start := 0; start < len(rs); start += wire.MaxResults {
		end := min(start+wire.MaxResults, len(rs))
		if err := c.Enqueue(Message{Kind: "results", Results: rs[start:end]}); err != nil {
			return 0, err
		}
	}
	return len(rs), c.MarkQueued(rs)
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
