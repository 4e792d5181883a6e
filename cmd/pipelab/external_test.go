package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/report"
)

func TestRunWriterCommand(t *testing.T) {
	stdout, stderr, code := pipelab(t, t.TempDir(), "run", "--writer-cmd", "head -c 16777216 /dev/zero", "--bytes", "1GiB", "--repeat", "1", "--json")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %s", code, stderr)
	}
	var s report.Step
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	if s.Mode != "head" || s.Strategy != "write" || s.Bytes != 16<<20 || len(s.Runs) != 1 || s.WriterCmd != "head -c 16777216 /dev/zero" {
		t.Errorf("got mode %q strategy %q bytes %d runs %v writer %q, want head, write, 16MiB, one run, the command", s.Mode, s.Strategy, s.Bytes, s.Runs, s.WriterCmd)
	}
	if len(s.Commands) != 1 || s.Commands[0].Status != "exited with status 0" || s.Commands[0].WrittenBytes != 16<<20 {
		t.Errorf("got commands %+v, want the writer exited with status 0 having written 16MiB", s.Commands)
	}
	if !strings.Contains(stderr, `pipelab: head: writer command "head -c 16777216 /dev/zero" (pid `) {
		t.Errorf("stderr %q does not say how the writer command ended", stderr)
	}
}

func TestRunCommandFails(t *testing.T) {
	_, stderr, code := pipelab(t, t.TempDir(), "run", "--name", "three", "--reader-cmd", "exit 3", "--bytes", "16MiB", "--repeat", "1")
	if code != 1 || !strings.Contains(stderr, `pipelab: run three: run 1 of 1: reader command "exit 3": exited with status 3`) {
		t.Errorf("got status %d and stderr %q, want 1 and the reader command named with its status", code, stderr)
	}
}

func TestCommandName(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"head -c 1G /dev/zero", "head"},
		{"/usr/bin/dd if=/dev/zero bs=1M", "dd"},
		{"LC_ALL=C ./fizz buzz", "fizz"},
		{"'¿?'", "cmd"},
	} {
		if got := commandName(tc.cmd); got != tc.want {
			t.Errorf("commandName(%q): got %q, want %q", tc.cmd, got, tc.want)
		}
	}
}
