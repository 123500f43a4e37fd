package detect

import "github.com/custodia/custodia/internal/detect/difftest"

func debugLines() []string { return difftest.Events(2000, 1) }
