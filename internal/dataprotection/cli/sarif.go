package cli

import (
	"encoding/json"
	"io"
	"slices"
)

// SARIF 2.1.0, the subset code-scanning tools read.
type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			ByteOffset int `json:"byteOffset"`
			ByteLength int `json:"byteLength"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

func newSarifResult(l findingLine) sarifResult {
	var loc sarifLocation
	loc.PhysicalLocation.ArtifactLocation.URI = l.Path
	loc.PhysicalLocation.Region.ByteOffset = l.Start
	loc.PhysicalLocation.Region.ByteLength = l.End - l.Start
	return sarifResult{RuleID: l.Entity, Level: "warning",
		Message:   sarifMessage{Text: l.Entity + " (" + l.Validator + "): " + l.Masked},
		Locations: []sarifLocation{loc}}
}

func writeSarif(w io.Writer, results []sarifResult) error {
	type rule struct {
		ID string `json:"id"`
	}
	var rules []rule
	var seen []string
	for _, r := range results {
		if !slices.Contains(seen, r.RuleID) {
			seen = append(seen, r.RuleID)
		}
	}
	slices.Sort(seen)
	for _, id := range seen {
		rules = append(rules, rule{ID: id})
	}
	if results == nil {
		results = []sarifResult{}
	}
	doc := map[string]any{
		"version": "2.1.0",
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": map[string]any{"name": "custodia", "informationUri": "https://github.com/custodia/custodia", "rules": rules}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
