package compare

import (
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/internal/tally"
)

// TestRoutinesOneRow: the user copy under copy_page_from_iter is
// copy_user_enhanced_fast_string on x86-64 6.1, rep_movs_alternative on
// 6.12 and __arch_copy_from_user (and, in a reader, __arch_copy_to_user)
// on arm64; compare sets them in one row, "user copy", with each
// kernel's spelling and share, as the matrix's ladders need.
func TestRoutinesOneRow(t *testing.T) {
	const stack = "writer;__GI___libc_write;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];ksys_write_[k];vfs_write_[k];pipe_write_[k];copy_page_from_iter_[k];_copy_from_iter_[k];"
	kernels := []struct{ folded, name string }{
		{stack + "copy_user_enhanced_fast_string_[k] 60\n" + stack + "__alloc_pages_[k] 40\n", "copy_user_enhanced_fast_string"},
		{stack + "rep_movs_alternative_[k] 45\n" + stack + "__alloc_pages_[k] 55\n", "rep_movs_alternative"},
		{stack + "__arch_copy_from_user_[k] 30\n" + stack + "__arch_copy_to_user_[k] 10\n" + stack + "__alloc_pages_[k] 60\n", "__arch_copy_from_user + __arch_copy_to_user"},
	}
	var tallies []map[string]*tally.Tally
	for _, k := range kernels {
		p := fixture.Build(t, "write", []byte(k.folded))
		idx, err := tally.ValueIndex(p, "")
		if err != nil {
			t.Fatal(err)
		}
		tallies = append(tallies, map[string]*tally.Tally{"writer": tally.New(p, "writer", idx)})
	}
	var row *SymbolSeries
	for _, rs := range symbolSeries(tallies, attribute.Options{Top: 100}) {
		for i, s := range rs.Symbols {
			if s.Routine == "user copy" {
				row = &rs.Symbols[i]
			}
			for _, k := range kernels {
				for _, n := range s.Names {
					if n == k.name && s.Routine == "" {
						t.Errorf("%s has a row of its own", n)
					}
				}
			}
		}
	}
	if row == nil {
		t.Fatal("no user copy row")
	}
	for i, k := range kernels {
		if row.Names[i] != k.name {
			t.Errorf("kernel %d: the user copy is spelled %q, want %q", i, row.Names[i], k.name)
		}
	}
	if want := []float64{0.60, 0.45, 0.40}; row.Cum[0] != want[0] || row.Cum[1] != want[1] || row.Cum[2] != want[2] {
		t.Errorf("user copy shares %v, want %v", row.Cum, want)
	}
	if got, want := seriesLabel(*row, false), "user copy (copy_user_enhanced_fast_string | rep_movs_alternative | __arch_copy_from_user + __arch_copy_to_user)"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
}
