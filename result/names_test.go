package result

import (
	"errors"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, tc := range []struct{ name, problem string }{
		{"fizzbuzz", ""},
		{"dd_2-x", ""},
		{"", "is empty"},
		{"a/b", "holds a path separator"},
		{".x", "starts with a dot"},
		{"write.writer", "holds a dot, so its files write.writer.* could pass for step write's"},
		{"-x", "starts with -"},
		{"a b", "holds ' ', which is not a letter, a digit, _, - or +"},
		{"été", "holds 'é', which is not a letter, a digit, _, - or +"},
		{string(make([]byte, 65)), "holds a path separator"},
	} {
		err := CheckName(tc.name)
		var ne *NameError
		switch {
		case tc.problem == "" && err != nil:
			t.Errorf("CheckName(%q): got %v, want nil", tc.name, err)
		case tc.problem != "" && (!errors.As(err, &ne) || ne.Problem != tc.problem):
			t.Errorf("CheckName(%q): got %v, want the problem %q", tc.name, err, tc.problem)
		}
	}
	long := "x"
	for len(long) <= MaxNameBytes {
		long += "x"
	}
	if err := CheckName(long); err == nil {
		t.Errorf("CheckName of %d bytes: got nil, want an error", len(long))
	}
}

// TestCheckFolder: the names of a folder's steps, in ladder order, give
// every artefact its own file name, or the collision is named.
func TestCheckFolder(t *testing.T) {
	for _, tc := range []struct {
		steps []string
		want  string
	}{
		{[]string{"write", "vmsplice", "splice", "huge", "busy", "dd"}, ""},
		{[]string{"write", "write-huge", "vmsplice"}, ""},
		{[]string{"write", "ladder"}, "ladder.json would be both a file of step ladder and the ladder's own"},
		{[]string{"write", "write-huge", "write-write", "huge"}, "write-write-huge.writer.diff.svg would be both the write-write → huge diff flame graph and the write → write-huge diff flame graph"},
	} {
		err := CheckFolder(tc.steps)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckFolder(%q): got %q, want %q", tc.steps, got, tc.want)
		}
	}
}
