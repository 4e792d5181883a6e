package result

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtures is a ladder pipelab recorded on this machine: ladder.json and
// the profile of each step.
var fixtures = filepath.Join("..", "report", "testdata")

// ladderSteps returns the steps of the fixture ladder.
func ladderSteps(t *testing.T) []Step {
	t.Helper()
	f, err := OpenFolder(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	return f.Steps
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
