package literal

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

func found(f *Filter, text string) []int32 {
	seen := map[int32]bool{}
	f.Scan(text, func(id int32) { seen[id] = true })
	var out []int32
	for id := range seen {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func naive(needles []string, text string) []int32 {
	var out []int32
	for i, n := range needles {
		if strings.Contains(text, n) {
			out = append(out, int32(i))
		}
	}
	return out
}

func TestFilter(t *testing.T) {
	needles := []string{"\\cmd.exe", "powershell", "-enc", "ab", "x", "shell.ex", "é€", "aaaa", "/c ", "e ", " "}
	f := New(needles)
	for _, text := range []string{
		"c:\\windows\\system32\\cmd.exe /c whoami",
		"powershell -enc abc",
		"", "x", "ab", "aaa", "aaaaa", "é€é", "nothing here",
	} {
		got, want := found(f, text), naive(needles, text)
		if !slices.Equal(got, want) {
			t.Errorf("scan(%q) = %v, want %v", text, got, want)
		}
	}
}

func FuzzFilter(f *testing.F) {
	f.Add("cmd.exe,shell,ab", "c:\\cmd.exe powershell")
	f.Add("aaaa,aaab", "aaaaaaab")
	f.Add("a,ab,abc,e ,/c,-e ,x", "CMD /C Echo -E abc")
	f.Add("é,€a,aé", "Éé€a")
	f.Fuzz(func(t *testing.T, list, text string) {
		var needles []string
		for _, n := range strings.Split(list, ",") {
			if n != "" {
				needles = append(needles, n)
			}
		}
		if len(needles) == 0 {
			return
		}
		lf := New(needles)
		got, want := found(lf, text), naive(needles, text)
		if !slices.Equal(got, want) {
			t.Fatalf("scan(%q) over %q = %v, want %v", text, needles, got, want)
		}
		seen := map[int32]bool{}
		if lf.ScanFold(strings.ToUpper(text), func(id int32) { seen[id] = true }) {
			var folded []int32
			for id := range seen {
				folded = append(folded, id)
			}
			sort.Slice(folded, func(i, j int) bool { return folded[i] < folded[j] })
			if lower := strings.ToLower(strings.ToUpper(text)); !slices.Equal(folded, naive(needles, lower)) {
				t.Fatalf("ScanFold(%q) over %q = %v, want %v", strings.ToUpper(text), needles, folded, naive(needles, lower))
			}
		}
		if lf.Any(text) != (len(want) > 0) {
			t.Fatalf("Any(%q) over %q = %v, want %v", text, needles, !(len(want) > 0), len(want) > 0)
		}
	})
}
