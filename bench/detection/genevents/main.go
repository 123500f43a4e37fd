// Command genevents writes a reproducible mixed Windows/Sysmon event stream
// (evtx-to-JSON lines, about 3% suspicious) for benchmarking
// `custodia detect` end to end.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/custodia/custodia/internal/detect/difftest"
)

func main() {
	n := flag.Int("n", 100000, "number of events")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	for _, l := range difftest.Events(*n, *seed) {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genevents:", err)
		os.Exit(1)
	}
}
