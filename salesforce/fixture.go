package salesforce

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// A fixture is a folder of recorded Salesforce responses: `check --record`
// writes one (redacted), and the fake org's replay server serves one. The
// index.json names each response's request and file.

// FixtureEntry is one recorded response in a fixture's index.json.
type FixtureEntry struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query is the SOQL of a query request ("" for others).
	Query       string `json:"query,omitempty"`
	Status      int    `json:"status"`
	ContentType string `json:"content_type,omitempty"`
	// File holds the body, relative to the fixture folder.
	File string `json:"file"`
}

// FixtureIndex is a fixture folder's index.json.
type FixtureIndex struct {
	// Source says where the responses came from: "check --record" or the
	// public samples a hand-built fixture follows.
	Source    string         `json:"source"`
	Responses []FixtureEntry `json:"responses"`
	// Incomplete says why a recording stopped early ("" when it did not).
	Incomplete string `json:"incomplete,omitempty"`
}

// ReadFixture reads dir/index.json.
func ReadFixture(dir string) (*FixtureIndex, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	var idx FixtureIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "index.json"), err)
	}
	return &idx, nil
}
