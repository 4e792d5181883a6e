package matrix

import (
	"reflect"
	"testing"
)

func TestCompareRead(t *testing.T) {
	// Cut from `pipelab compare --format json` over a 6.1 and a 6.12 ladder.
	jsonOut := `{"folders":[{"name":"a","env":{"kernel":"6.1.0-57-cloud-amd64","emulation":"emulated CPU (QEMU TCG): timings are not the hardware's"}},
	{"name":"b","env":{"kernel":"6.12.118+deb12-cloud-amd64","cpu_model":"QEMU TCG CPU version 2.5+"}}],
	"steps":[{"mode":"write","roles":[{"role":"writer","symbols":[
	{"post":"__alloc_pages","names":["__alloc_pages","__alloc_pages_noprof, alloc_pages_noprof"],"cum":[0.1,0.2]},
	{"post":"splice_from_pipe","names":["splice_from_pipe, __splice_from_pipe","__splice_from_pipe, splice_from_pipe"],"cum":[0.1,0.2]},
	{"post":"pipe_write","names":["pipe_write",""],"cum":[0.5,-1]},
	{"names":["copy_user_enhanced_fast_string",""],"cum":[0.5,0]},
	{"routine":"user copy","names":["copy_user_enhanced_fast_string","rep_movs_alternative"],"cum":[0.5,0.4]}]}]},
	{"mode":"vmsplice","roles":[{"role":"writer","symbols":[
	{"post":"__alloc_pages","names":["","alloc_pages_noprof"],"cum":[-1,0.2]}]}]}]}`
	c := &Compare{Folders: []string{"6.1-amd64", "6.12-amd64"}}
	if err := c.read([]byte(jsonOut), "folders:\n  a: emulated CPU (QEMU TCG): timings are not the hardware's\n"); err != nil {
		t.Fatal(err)
	}
	want := []AliasRow{
		{Post: "(user copy)", Names: []string{"copy_user_enhanced_fast_string", "rep_movs_alternative"}},
		{Post: "__alloc_pages", Names: []string{"__alloc_pages", "__alloc_pages_noprof, alloc_pages_noprof"}},
	}
	if !reflect.DeepEqual(c.Aliased, want) {
		t.Errorf("aliased %+v, want %+v: one row per post symbol or routines' job, each folder's names over every step (splice_from_pipe's are one set in both)", c.Aliased, want)
	}
	if len(c.Emulated) != 2 || !c.Emulated[0] || c.Emulated[1] {
		t.Errorf("emulated %v, want the first folder marked and the second not", c.Emulated)
	}
	if !c.Failed() {
		t.Error("a folder not marked emulated must fail the comparison")
	}
	c.Emulated[1] = true
	if c.Failed() {
		t.Error("every folder marked and a renamed symbol matched: want no failure")
	}
	if err := c.read([]byte("not json"), ""); err == nil {
		t.Error("read of a non-JSON output: want an error")
	}
}
