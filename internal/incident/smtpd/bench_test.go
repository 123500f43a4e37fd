package smtpd

import (
	"context"
	"net/smtp"
	"testing"

	"github.com/custodia/custodia/internal/incident/mailparse"
)

// BenchmarkIntake measures reported e-mails accepted per second on
// loopback, one new connection per message (as report buttons send them),
// with the handler parsing each message before the 250.
func BenchmarkIntake(b *testing.B) {
	st := &store{}
	handler := func(ctx context.Context, env Envelope, raw []byte) error {
		res := mailparse.ParseBytes(raw, mailparse.Limits{})
		if res.Reported == nil {
			b.Error("nil reported message")
		}
		return st.handle(ctx, env, raw)
	}
	_, addr, _ := startServer(b, Config{Handler: handler})
	msg := []byte(forwarded)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		if err := smtp.SendMail(addr, nil, "ana@client.example", []string{reportAddr}, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(st.count())/b.Elapsed().Seconds(), "msgs/s")
	if st.count() != b.N {
		b.Fatalf("stored %d of %d messages", st.count(), b.N)
	}
}

// BenchmarkIntakeParallel is BenchmarkIntake with 8 concurrent senders.
func BenchmarkIntakeParallel(b *testing.B) {
	st := &store{}
	handler := func(ctx context.Context, env Envelope, raw []byte) error {
		mailparse.ParseBytes(raw, mailparse.Limits{})
		return st.handle(ctx, env, raw)
	}
	_, addr, _ := startServer(b, Config{Handler: handler})
	msg := []byte(forwarded)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := smtp.SendMail(addr, nil, "ana@client.example", []string{reportAddr}, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(st.count())/b.Elapsed().Seconds(), "msgs/s")
	if st.count() != b.N {
		b.Fatalf("stored %d of %d messages", st.count(), b.N)
	}
}
