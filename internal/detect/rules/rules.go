// Package rules embeds Custodia's contact-center Sigma rule pack: rules a
// contact center needs that SigmaHQ lacks or scatters. Each rule has
// positive and negative test events in testdata/.
package rules

import "embed"

// FS holds the pack's rule files (*.yml at its root).
//
//go:embed *.yml
var FS embed.FS
