package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"testing"
)

func tarGz(tb testing.TB, files map[string]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// FuzzRestoreArchive feeds arbitrary archives to the restore reader: it must
// never panic, never write anything but the known flat file names inside the
// target directory, and accept a manifest only if every checksum matches.
func FuzzRestoreArchive(f *testing.F) {
	f.Add(tarGz(f, map[string]string{"custodia.db": "db", "manifest.json": `{"format":"custodia-backup","version":1,"files":[{"name":"custodia.db","size":2,"sha256":"48a1d6c6d0ab4e1a4e0c5a4e6b1b0d2e0f0e4c3d2b1a09f8e7d6c5b4a3928170"}]}`}))
	f.Add(tarGz(f, map[string]string{"../evil": "x"}))
	f.Add(tarGz(f, map[string]string{"custodia.db": "db"}))
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		err := readTarGz(bytes.NewReader(data), dir)
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, e := range entries {
			if !isBackupName(e.Name()) || !e.Type().IsRegular() {
				t.Fatalf("archive wrote %q", e.Name())
			}
		}
		if err != nil {
			return
		}
		man, err := checkManifest(dir)
		if err != nil {
			return
		}
		for _, f := range man.Files {
			got, err := hashFile(dir + "/" + f.Name)
			if err != nil || got.SHA256 != f.SHA256 || got.Size != f.Size {
				t.Fatalf("manifest accepted with a wrong checksum for %s", f.Name)
			}
		}
	})
}
