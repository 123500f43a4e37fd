// Command median reads `go test -bench` output on stdin and prints, for
// each benchmark, the median of every metric over the runs (-count N),
// plus the ratio of the first benchmark's events/cpu-s to the others' in
// the same group when that metric is present.
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	type key struct{ bench, unit string }
	vals := map[key][]float64{}
	var order []string
	seen := map[string]bool{}
	units := map[string][]string{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // drop -GOMAXPROCS
			}
		}
		if !seen[name] {
			seen[name] = true
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			k := key{name, f[i+1]}
			if len(vals[k]) == 0 {
				units[name] = append(units[name], f[i+1])
			}
			vals[k] = append(vals[k], v)
		}
	}
	median := func(xs []float64) float64 {
		s := append([]float64(nil), xs...)
		sort.Float64s(s)
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return (s[n/2-1] + s[n/2]) / 2
	}
	groupBase := map[string]float64{}
	for _, name := range order {
		var parts []string
		runs := 0
		for _, u := range units[name] {
			xs := vals[key{name, u}]
			runs = len(xs)
			parts = append(parts, fmt.Sprintf("%.4g %s", median(xs), u))
		}
		line := fmt.Sprintf("%-50s runs=%d  %s", name, runs, strings.Join(parts, "  "))
		group := name
		if i := strings.IndexByte(name, '/'); i > 0 {
			group = name[:i]
		}
		if xs := vals[key{name, "events/cpu-s"}]; len(xs) > 0 {
			m := median(xs)
			if base, ok := groupBase[group]; ok {
				line += fmt.Sprintf("  (first is %.0fx faster)", base/m)
			} else {
				groupBase[group] = m
			}
		}
		fmt.Println(line)
	}
}
