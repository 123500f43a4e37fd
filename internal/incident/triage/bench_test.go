package triage

import (
	"context"
	"fmt"
	"net/smtp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func p95(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return Percentile(s, 0.95)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkAcknowledgement measures, end to end on loopback, the time from
// a reporter's client starting to send a forwarded phishing e-mail to
// Custodia's SMTP listener until the acknowledgement reaches the relay
// (another SMTP listener standing for the organisation's mail server), and
// the time until the report is in the triage queue with its observables
// (the listener answers 250 only once the report is stored).
func BenchmarkAcknowledgement(b *testing.B) {
	st := storetest.SQLite(b)
	f := setup(b, st)
	intake := startSMTP(b, []string{reportAddr}, f.svc.MailHandler())
	ctx := context.Background()
	var ack, queued []time.Duration
	i := 0
	for b.Loop() {
		i++
		// A different e-mail each time, so none clusters with another.
		raw := strings.ReplaceAll(forwardedEML("ana@client.example"), "campaign-42", fmt.Sprintf("campaign-%d", i))
		raw = strings.ReplaceAll(raw, "Verify your account", fmt.Sprintf("Verify your account %d", i))
		raw = strings.ReplaceAll(raw, "bank-verify.example", fmt.Sprintf("bank-verify-%d.example", i))
		before := len(f.sink.wait(b, i-1))
		t0 := time.Now()
		if err := smtp.SendMail(intake, nil, "ana@client.example", []string{reportAddr}, []byte(raw)); err != nil {
			b.Fatal(err)
		}
		q, err := f.svc.Queue(ctx, f.security, 0)
		if err != nil || len(q) == 0 {
			b.Fatalf("queue = %d items, %v", len(q), err)
		}
		queued = append(queued, time.Since(t0))
		msgs := f.sink.wait(b, before+1)
		ack = append(ack, msgs[len(msgs)-1].at.Sub(t0))
	}
	b.ReportMetric(ms(p95(ack)), "ack-p95-ms")
	b.ReportMetric(ms(p95(queued)), "queue-p95-ms")
}

// BenchmarkIntakeSustained offers reported e-mails at 50 per second for
// b.N seconds' worth (at least 5 s) from up to 30 concurrent connections and
// checks that every one is stored as a report; it reports the rate achieved
// and the p95 time to the 250 reply.
func BenchmarkIntakeSustained(b *testing.B) { intakeRun(b, max(b.N, 5)*50, 20*time.Millisecond) }

// BenchmarkIntakeMax sends b.N reported e-mails (at least 200) as fast as 30
// connections allow: the node's intake capacity.
func BenchmarkIntakeMax(b *testing.B) { intakeRun(b, max(b.N, 200), 0) }

func intakeRun(b *testing.B, total int, every time.Duration) {
	st := storetest.SQLite(b)
	var reps []string
	for i := 0; i < 10; i++ {
		reps = append(reps, fmt.Sprintf("agent%d@client.example", i))
	}
	f := setup(b, st, reps...)
	addPeople(b, st, reps, f.clientA)
	intake := startSMTP(b, []string{reportAddr}, f.svc.MailHandler())
	b.ResetTimer()
	var mu sync.Mutex
	var lat []time.Duration
	var failed int
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 30; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rep := reps[i%len(reps)]
				raw := strings.ReplaceAll(forwardedEML(rep), "campaign-42", fmt.Sprintf("campaign-s%d", i%40))
				t0 := time.Now()
				err := smtp.SendMail(intake, nil, rep, []string{reportAddr}, []byte(raw))
				mu.Lock()
				if err != nil {
					failed++
				} else {
					lat = append(lat, time.Since(t0))
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for i := 0; i < total; i++ {
		if tick != nil {
			<-tick
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var stored int
	if err := st.QueryRow(context.Background(), "SELECT COUNT(*) FROM reports").Scan(&stored); err != nil {
		b.Fatal(err)
	}
	if failed > 0 || stored != total {
		b.Fatalf("offered %d, refused %d, stored %d: messages lost", total, failed, stored)
	}
	incs, _ := f.svc.Incidents(context.Background(), &identity.Principal{Role: identity.RoleSecurity, AllClients: true}, store.IncidentFilter{Limit: 500})
	b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(ms(p95(lat)), "reply-p95-ms")
	b.ReportMetric(float64(len(incs)), "incidents")
}
