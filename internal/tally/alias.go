package tally

// Alias maps a kernel symbol named in the post (Linux 5.17) to the real
// symbols that do the same work on other kernel versions.
type Alias struct {
	// Post is the name the post uses, e.g. "pipe_write".
	Post string
	// Symbols are the real kernel symbols (without compiler suffixes such
	// as .constprop.0) that count as Post, in the order a reader of the
	// post would look for them.
	Symbols []Symbol
}

// Symbol is one real kernel Symbol of an alias and the kernel versions it
// exists in as a Symbol of its own.
type Symbol struct {
	// Name is the symbol as /proc/kallsyms spells it, without suffixes.
	Name string
	// Since is the first kernel version with this symbol ("" when it
	// predates every kernel pipelab targets).
	Since string
	// Until is the first kernel version without it ("" while it exists).
	Until string
	// Static marks a static function that the compiler may inline, so its
	// absence from /proc/kallsyms is expected on some builds.
	Static bool
	// Note says what changed, for the report and for maintainers.
	Note string
}

// Aliases is the alias table: the post's kernel symbols and the real
// symbols that match them, each with the kernel versions it exists in.
var Aliases = []Alias{
	{Post: "pipe_write", Symbols: []Symbol{
		{Name: "pipe_write", Until: "6.15"},
		{Name: "anon_pipe_write", Since: "6.15"},
	}},
	{Post: "pipe_read", Symbols: []Symbol{
		{Name: "pipe_read", Until: "6.15"},
		{Name: "anon_pipe_read", Since: "6.15"},
	}},
	{Post: "copy_page_from_iter", Symbols: []Symbol{{Name: "copy_page_from_iter"}}},
	{Post: "copy_page_to_iter", Symbols: []Symbol{{Name: "copy_page_to_iter"}}},
	{Post: "__alloc_pages", Symbols: []Symbol{
		{Name: "__alloc_pages", Until: "6.10"},
		{Name: "__alloc_pages_noprof", Since: "6.10", Note: "memory allocation profiling added _noprof"},
		{Name: "alloc_pages_noprof", Since: "6.10", Note: "the pipe write path calls it on 6.18"},
		{Name: "__alloc_frozen_pages_noprof", Since: "6.14", Note: "what alloc_pages_noprof reaches on 6.18"},
	}},
	{Post: "iov_iter_get_pages", Symbols: []Symbol{
		{Name: "iov_iter_get_pages", Until: "6.0"},
		{Name: "iov_iter_get_pages2", Since: "6.0"},
	}},
	{Post: "get_user_pages_fast", Symbols: []Symbol{
		{Name: "get_user_pages_fast"},
		{Name: "internal_get_user_pages_fast", Until: "6.10", Static: true},
		{Name: "gup_fast_fallback", Since: "6.10", Static: true, Note: "renamed from internal_get_user_pages_fast"},
	}},
	{Post: "lockless_pages_from_mm", Symbols: []Symbol{
		{Name: "lockless_pages_from_mm", Until: "6.10", Static: true},
		{Name: "gup_fast", Since: "6.10", Static: true, Note: "GUP-fast page-table walk; inlined into gup_fast_fallback on 6.18"},
	}},
	{Post: "gup_pte_range", Symbols: []Symbol{
		{Name: "gup_pte_range", Until: "6.10", Static: true},
		{Name: "gup_fast_pte_range", Since: "6.10", Static: true, Note: "inlined on 6.18"},
	}},
	{Post: "try_grab_compound_head", Symbols: []Symbol{
		{Name: "try_grab_compound_head", Until: "5.17"},
		{Name: "try_grab_folio", Since: "5.17"},
		{Name: "try_grab_folio_fast", Since: "6.10", Static: true, Note: "GUP-fast's own variant"},
	}},
	{Post: "__mutex_lock", Symbols: []Symbol{
		{Name: "__mutex_lock", Static: true},
		{Name: "__mutex_lock_slowpath", Static: true},
	}},
	{Post: "wait_for_space", Symbols: []Symbol{{Name: "wait_for_space", Static: true}}},
	{Post: "__wake_up_common_lock", Symbols: []Symbol{
		{Name: "__wake_up_common_lock", Until: "6.7", Static: true, Note: "not a symbol of its own since the wait-bookmark removal (version not verified); its work runs inside __wake_up"},
		{Name: "__wake_up"},
	}},
	{Post: "add_to_pipe", Symbols: []Symbol{{Name: "add_to_pipe"}}},
	{Post: "schedule", Symbols: []Symbol{{Name: "schedule"}}},
	{Post: "splice_from_pipe", Symbols: []Symbol{
		{Name: "splice_from_pipe"},
		{Name: "__splice_from_pipe"},
	}},
	{Post: "pipe_wait_readable", Symbols: []Symbol{{Name: "pipe_wait_readable"}}},
	{Post: "pipe_wait_writable", Symbols: []Symbol{{Name: "pipe_wait_writable"}}},
	{Post: "__do_sys_vmsplice", Symbols: []Symbol{
		{Name: "__do_sys_vmsplice", Static: true},
		{Name: "vmsplice_to_pipe", Static: true, Note: "inlined on 6.18"},
		{Name: "iter_to_pipe", Static: true, Note: "inlined on 6.18"},
	}},
	{Post: "do_splice", Symbols: []Symbol{
		{Name: "do_splice"},
		{Name: "__do_splice", Static: true},
	}},
}

// Routines are kernel routines that do one job under other names on
// other kernels and architectures, none of them named by the post: the
// leaf that copies between user and kernel memory under
// copy_page_from_iter and copy_page_to_iter is
// copy_user_enhanced_fast_string (or copy_user_generic_string or
// copy_user_generic_unrolled, by CPU) on x86-64 before 6.4,
// rep_movs_alternative since, and __arch_copy_from_user and
// __arch_copy_to_user on arm64. pipelab compare sets each job's routines
// in one row, named by the job.
var Routines = map[string]string{
	"copy_user_enhanced_fast_string": "user copy",
	"copy_user_generic_string":       "user copy",
	"copy_user_generic_unrolled":     "user copy",
	"rep_movs_alternative":           "user copy",
	"__arch_copy_from_user":          "user copy",
	"__arch_copy_to_user":            "user copy",
}

// IRQEnablePoints are symbols where a software cpu-clock timer in a VM
// without a PMU fires as soon as interrupts come back on, so self time
// piles up on them (see Attribution.IRQEnableSelf).
var IRQEnablePoints = map[string]bool{
	"_raw_spin_unlock_irqrestore":      true,
	"_raw_spin_unlock_irq":             true,
	"_raw_write_unlock_irqrestore":     true,
	"_raw_read_unlock_irqrestore":      true,
	"finish_task_switch":               true,
	"pvm_irq_enable":                   true,
	"__raw_callee_save_pvm_irq_enable": true,
	"native_irq_enable":                true,
	"arch_local_irq_enable":            true,
	"irqentry_exit_to_user_mode":       true,
}

// EntryFrames are the syscall plumbing every kernel stack starts with;
// summaries by inclusive share leave them out.
var EntryFrames = map[string]bool{
	// x86-64.
	"entry_SYSCALL_64":               true,
	"entry_SYSCALL_64_after_hwframe": true,
	"do_syscall_64":                  true,
	"x64_sys_call":                   true,
	// arm64: the exception vector, its handler and the system-call
	// dispatch (Debian's 6.1 and 6.12 kernels).
	"el0t_64_sync":         true,
	"el0t_64_sync_handler": true,
	"el0_svc":              true,
	"do_el0_svc":           true,
	"el0_svc_common":       true,
	"invoke_syscall":       true,
}

// AliasIndex maps each real symbol name to the index of its alias.
var AliasIndex = func() map[string]int {
	m := map[string]int{}
	for i, a := range Aliases {
		for _, s := range a.Symbols {
			m[s.Name] = i
		}
	}
	return m
}()
