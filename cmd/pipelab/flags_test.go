package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

// TestFlagsNameEveryField: every field bench's and profile's errors can
// name has a flag in the one map, and every flag in the map is one that
// pipelab profile takes. bench's errors name fields of bench.Options and
// bench.Watch's parameters (bench's TestOptionErrorsNameFields holds them
// to that); profile's name the three fields of profile.Config a flag sets.
func TestFlagsNameEveryField(t *testing.T) {
	var fields []string
	for _, f := range reflect.VisibleFields(reflect.TypeOf(bench.Options{})) {
		fields = append(fields, f.Name)
	}
	fields = append(fields, "Writer", "Reader", "Duration")
	config := reflect.TypeOf(profile.Config{})
	for _, f := range []string{"FreqHz", "View", "Event"} {
		if _, ok := config.FieldByName(f); !ok {
			t.Errorf("profile.Config has no field %s", f)
		}
		fields = append(fields, f)
	}
	for _, f := range fields {
		if _, ok := flags[f]; !ok {
			t.Errorf("field %s has no flag in flags", f)
		}
	}
	help, _, _ := pipelab(t, t.TempDir(), "profile", "--help")
	for field, flag := range flags {
		if !strings.Contains(help, "\n  "+flag+" ") && !strings.Contains(help, "\n  "+flag+"\n") {
			t.Errorf("flags maps %s to %s, which pipelab profile --help does not list", field, flag)
		}
	}
}
