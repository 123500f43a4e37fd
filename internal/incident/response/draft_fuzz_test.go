package response

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDraftRender feeds arbitrary user-edited field values (any Unicode,
// control characters, very long lines) to the text and PDF renderers.
func FuzzDraftRender(f *testing.F) {
	f.Add("INC-1", "Naturaleza: ficheros con DNI y teléfonos — «urgente»", "es")
	f.Add("INC-2", "\x00\r\n\t€ 😀 漢字 \\ ( ) %PDF", "en")
	f.Add("", strings.Repeat("x", 300), "es")
	f.Fuzz(func(t *testing.T, ref, value, lang string) {
		d := &Draft{Title: "Notificación", Recipient: "AEPD", Ref: ref, Lang: NormalizeLang(lang),
			Fields: []DraftField{{Key: "nature", Label: "Naturaleza", Value: value, Multiline: true}, {Key: "ref", Label: "Ref", Value: ref}}}
		if !strings.Contains(d.Text(), "Naturaleza:\n") {
			t.Fatal("text lost a label")
		}
		b, err := d.PDF()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("%PDF")) {
			t.Fatal("not a PDF")
		}
	})
}
