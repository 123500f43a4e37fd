package discovery

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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

// BenchmarkScanLocation scans a folder of 2,000 1 KB notes (a tenth with
// findings) into SQLite, with checkpoints at the default bound (every 500
// entries), at every entry (the worst case) and never but at the end (as
// before scans resumed), to show what checkpointing costs; reports the process CPU time per scan (getrusage: the scan and the
// database writes).
func BenchmarkScanLocation(b *testing.B) {
	root := b.TempDir()
	note := benchNote()
	clean := strings.Repeat("Nota de seguimiento sin datos personales. ", 25)[:1024]
	for i := range 2000 {
		content := clean
		if i%10 == 0 {
			content = note
		}
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i/100))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("n%04d.txt", i)), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		every int
	}{{"checkpoint-none", 1 << 30}, {"checkpoint-500", 0}, {"checkpoint-1", 1}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			st := storetest.SQLite(b)
			s := newService(b, st, config.DataProtectionConfig{Interval: time.Hour, MaxFileBytes: 1 << 20,
				Locations: config.DataProtectionLocations{{Path: root, Name: "bench"}}})
			s.checkpointFiles = c.every
			if c.every > 1000 {
				s.checkpointPeriod = time.Hour
			}
			if err := s.SyncConfig(ctx); err != nil {
				b.Fatal(err)
			}
			locs, err := st.DPLocations(ctx, allScope)
			if err != nil {
				b.Fatal(err)
			}
			c0 := processCPU()
			for b.Loop() {
				run, err := s.ScanLocation(ctx, locs[0])
				if err != nil || run.FilesScanned != 2000 {
					b.Fatalf("scan = %+v, %v", run, err)
				}
			}
			b.ReportMetric(float64(processCPU()-c0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
