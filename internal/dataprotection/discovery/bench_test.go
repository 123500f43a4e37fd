package discovery

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/store/storetest"
)

// benchNote is a 1 KB CRM note with a card, an expiry, an e-mail, a phone
// and a DNI.
func benchNote() string {
	s := "Llamada de la clienta María López García (DNI 12345678Z) sobre el pedido 884512. " +
		"Pide cambiar la tarjeta de cobro a 4111 1111 1111 1111, caducidad 09/28. Teléfono de contacto +34 612 345 678, " +
		"correo maria.lopez@example.com. Se le explica que el cargo de 49,90 EUR del 12/03 corresponde a la renovación anual. "
	for len(s) < 1024 {
		s += "La clienta queda conforme y se cierra la incidencia sin más novedades. "
	}
	return s[:1024]
}

// BenchmarkProcess1KB is the API's in-process work per 1 KB message: option
// validation, the reused scanner, masking of the findings (scan) or the
// operator (redact); reports the p99 latency.
func BenchmarkProcess1KB(b *testing.B) {
	st := storetest.SQLite(b)
	s := newService(b, st, config.DataProtectionConfig{APIMaxBytes: 1 << 20, APIMaxItems: 100})
	for _, c := range []struct {
		name   string
		redact bool
		op     string
	}{{"scan", false, ""}, {"redact-token", true, "token"}, {"redact-encrypt-siv", true, "encrypt-siv"}} {
		b.Run(c.name, func(b *testing.B) {
			req := Request{Texts: []string{benchNote()}, Operator: c.op}
			lat := make([]time.Duration, 0, 1<<16)
			cpu := make([]int64, 0, 1<<16)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.SetBytes(1024)
			b.ReportAllocs()
			for b.Loop() {
				t0, c0 := time.Now(), threadCPU()
				if _, err := s.Process(context.Background(), req, c.redact); err != nil {
					b.Fatal(err)
				}
				cpu = append(cpu, threadCPU()-c0)
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			slices.Sort(cpu)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-wall-µs")
			b.ReportMetric(float64(cpu[len(cpu)*99/100])/1e3, "p99-cpu-µs")
			b.ReportMetric(float64(cpu[len(cpu)/2])/1e3, "p50-cpu-µs")
		})
	}
}
