package posture

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExtensions(t *testing.T) {
	th := newTestHost(t)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	th.Now = func() time.Time { return now }
	th.file(t, "/var/lib/clamav/daily.cld", "sigs")
	th.file(t, "/var/lib/clamav/old.cvd", "sigs")
	if err := os.Chtimes(filepath.Join(th.root, "var/lib/clamav/daily.cld"), now, now.Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(th.root, "var/lib/clamav/old.cvd"), now, now.Add(-50*time.Hour)); err != nil {
		t.Fatal(err)
	}
	th.script(t, "lastpatch", `echo "2026-10-01"`)
	th.script(t, "recentpatch", `echo "LastInstall: 2026-11-20T08:00:00Z"`)
	reg, _ := NewStaticRegistry(map[string]map[string][]string{
		`HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\DomainProfile`:      {"EnableFirewall": {"1"}},
		`HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\StandardProfile`:    {"EnableFirewall": {"1"}},
		`HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\PublicProfile`:      {"EnableFirewall": {"0"}},
		`HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\RestrictedServices`: {"x": {"1"}},
		`HKU\S-1-5-21-9-1001\Control Panel\Desktop`:                                                        {"ScreenSaveTimeOut": {"300"}},
		`HKU\S-1-5-21-9-1001_Classes\x`:                             {"y": {"1"}},
		`HKU\S-1-5-18\Control Panel\Desktop`:                        {"ScreenSaveTimeOut": {"9999"}},
		`HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU`: {"AUOptions": {"4"}},
	})
	th.Registry = reg
	tests := []struct {
		rule string
		want Status
		obs  string
	}{
		{`f:/var/lib/clamav/daily.cld -> age:<= 24h`, Passed, "age 3h0m"},
		{`f:/var/lib/clamav/old.cvd -> age:<= 24h`, Failed, "age 2d2h"},
		{`f:/var/lib/clamav/daily.cld,/var/lib/clamav/old.cvd -> age:<= 1d`, Passed, ""},
		{`every f:/var/lib/clamav/* -> age:<= 1d`, Failed, "age 2d2h"},
		{`f:/var/lib/clamav/none -> age:<= 1d`, NotApplicable, ""},
		{`strict f:/var/lib/clamav/none -> age:<= 1d`, Failed, ""},
		{`c:lastpatch -> t:^(\d+-\d+-\d+)$ compare <= 30d`, Failed, "age 57d12h"},
		{`c:recentpatch -> t:^LastInstall: (\S+)$ compare <= 30d`, Passed, "age 7d4h"},
		{`every r:HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\*Profile -> EnableFirewall -> 1`, Failed, ""},
		{`every r:HKU\S-1-5-21-*\Control Panel\Desktop -> ScreenSaveTimeOut -> n:^(\d+)$ compare <= 300`, Passed, "300"},
		{`every r:HKU\S-1-5-21-*\Control Panel\Desktop,HKU\S-1-5-18\Control Panel\Desktop -> ScreenSaveTimeOut -> n:^(\d+)$ compare <= 300`, Failed, "9999"},
		{`r:HKU\S-1-12-1-*\Control Panel\Desktop,HKU\S-1-5-21-*\Control Panel\Desktop -> ScreenSaveTimeOut -> 300`, Passed, ""},
		{`r:HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU -> NoAutoUpdate -> 1`, NotApplicable, ""},
		{`not strict r:HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU -> NoAutoUpdate -> 1`, Passed, ""},
		{`strict r:HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU -> AUOptions -> 4`, Passed, ""},
		{`strict c:nonexistent -> r:x`, Failed, "not found"},
	}
	for _, tt := range tests {
		ev := evalRule(t, th.Host, RegexPCRE2, tt.rule)
		if ev.Result != tt.want || !strings.Contains(ev.Observed, tt.obs) {
			t.Errorf("eval(%q) = %s %q, want %s containing %q", tt.rule, ev.Result, ev.Observed, tt.want, tt.obs)
		}
	}
	rp := ruleParser{regex: RegexPCRE2, vars: map[string]string{"$min_firefox": "128.0"}}
	r, err := rp.parse(`pkg:firefox -> v:>= $min_firefox`)
	if err != nil || r.Content.Clauses[0].Value != "128.0" {
		t.Errorf("variable in compare value: %+v, %v", r, err)
	}
	for _, bad := range []string{`c:x -> age:<= 1d`, `f:/x -> age:<= soon`, `f:/x -> t:(\d+) compare < 3 parsecs`, `strict strict f:/x`} {
		if _, err := rp.parse(bad); err == nil {
			t.Errorf("parse(%q) succeeded, want error", bad)
		}
	}
}

// brokenRegistry fails every read, as an access-denied key does.
type brokenRegistry struct{}

func (brokenRegistry) KeyExists(string) (bool, error) { return false, errors.New("access denied") }
func (brokenRegistry) Value(string, string) ([]string, bool, error) {
	return nil, false, errors.New("access denied")
}
func (brokenRegistry) SubKeys(string) ([]string, error) { return nil, errors.New("access denied") }

func TestRegistryErrorsAreErrors(t *testing.T) {
	h := &Host{Registry: brokenRegistry{}}
	for _, rule := range []string{
		`r:HKLM\SOFTWARE\X`,
		`r:HKLM\SOFTWARE\X -> V`,
		`r:HKLM\SOFTWARE\X -> V -> 1`,
		`every r:HKU\*\X -> V -> 1`,
	} {
		ev := evalRule(t, h, RegexPCRE2, rule)
		if ev.Result != Error || !strings.Contains(ev.Observed, "access denied") {
			t.Errorf("eval(%q) = %s %q, want error with the reason", rule, ev.Result, ev.Observed)
		}
	}
}

func TestPrefetchRunsCommandsConcurrentlyOnce(t *testing.T) {
	th := newTestHost(t)
	counter := filepath.Join(th.root, "count")
	for _, n := range []string{"slow1", "slow2", "slow3"} {
		th.script(t, n, `echo x >> `+counter+`; sleep 0.4; echo ok`)
	}
	doc := `
policy: {id: p}
checks:
  - {id: 1, title: a, condition: all, rules: ['c:slow1 -> ok', 'c:slow2 -> ok']}
  - {id: 2, title: b, condition: all, rules: ['c:slow3 -> ok', 'c:slow1 -> ok']}
`
	p := mustParse(t, doc)
	r := NewRun(th.Host)
	start := time.Now()
	r.Prefetch(context.Background(), []*Policy{p}, 3)
	pr := r.Policy(context.Background(), p)
	if d := time.Since(start); d > 1100*time.Millisecond {
		t.Errorf("prefetch + run took %s, want about one command's 0.4 s", d)
	}
	if pr.Passed != 2 {
		t.Errorf("passed = %d, want 2", pr.Passed)
	}
	b, _ := os.ReadFile(counter)
	if n := strings.Count(string(b), "x"); n != 3 {
		t.Errorf("commands ran %d times, want 3 (each once)", n)
	}
}
