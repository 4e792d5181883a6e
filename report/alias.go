package report

// alias maps a kernel symbol named in the post (Linux 5.17) to the real
// symbols that do the same work on other kernel versions.
type alias struct {
	// Post is the name the post uses, e.g. "pipe_write".
	Post string
	// Symbols are the real kernel symbols (without compiler suffixes such
	// as .constprop.0) that count as Post, in the order a reader of the
	// post would look for them.
	Symbols []symbol
}

// symbol is one real kernel symbol of an alias and the kernel versions it
// exists in as a symbol of its own.
type symbol struct {
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

// aliases is the alias table: the post's kernel symbols and the real
// symbols that match them, each with the kernel versions it exists in.
var aliases = []alias{
	{Post: "pipe_write", Symbols: []symbol{
		{Name: "pipe_write", Until: "6.15"},
		{Name: "anon_pipe_write", Since: "6.15"},
	}},
	{Post: "pipe_read", Symbols: []symbol{
		{Name: "pipe_read", Until: "6.15"},
		{Name: "anon_pipe_read", Since: "6.15"},
	}},
	{Post: "copy_page_from_iter", Symbols: []symbol{{Name: "copy_page_from_iter"}}},
	{Post: "copy_page_to_iter", Symbols: []symbol{{Name: "copy_page_to_iter"}}},
	{Post: "__alloc_pages", Symbols: []symbol{
		{Name: "__alloc_pages", Until: "6.10"},
		{Name: "__alloc_pages_noprof", Since: "6.10", Note: "memory allocation profiling added _noprof"},
		{Name: "alloc_pages_noprof", Since: "6.10", Note: "the pipe write path calls it on 6.18"},
		{Name: "__alloc_frozen_pages_noprof", Since: "6.14", Note: "what alloc_pages_noprof reaches on 6.18"},
	}},
	{Post: "iov_iter_get_pages", Symbols: []symbol{
		{Name: "iov_iter_get_pages", Until: "6.0"},
		{Name: "iov_iter_get_pages2", Since: "6.0"},
	}},
	{Post: "get_user_pages_fast", Symbols: []symbol{
		{Name: "get_user_pages_fast"},
		{Name: "internal_get_user_pages_fast", Until: "6.10", Static: true},
		{Name: "gup_fast_fallback", Since: "6.10", Static: true, Note: "renamed from internal_get_user_pages_fast"},
	}},
	{Post: "lockless_pages_from_mm", Symbols: []symbol{
		{Name: "lockless_pages_from_mm", Until: "6.10", Static: true},
		{Name: "gup_fast", Since: "6.10", Static: true, Note: "GUP-fast page-table walk; inlined into gup_fast_fallback on 6.18"},
	}},
	{Post: "gup_pte_range", Symbols: []symbol{
		{Name: "gup_pte_range", Until: "6.10", Static: true},
		{Name: "gup_fast_pte_range", Since: "6.10", Static: true, Note: "inlined on 6.18"},
	}},
	{Post: "try_grab_compound_head", Symbols: []symbol{
		{Name: "try_grab_compound_head", Until: "5.17"},
		{Name: "try_grab_folio", Since: "5.17"},
		{Name: "try_grab_folio_fast", Since: "6.10", Static: true, Note: "GUP-fast's own variant"},
	}},
	{Post: "__mutex_lock", Symbols: []symbol{
		{Name: "__mutex_lock", Static: true},
		{Name: "__mutex_lock_slowpath", Static: true},
	}},
	{Post: "wait_for_space", Symbols: []symbol{{Name: "wait_for_space", Static: true}}},
	{Post: "__wake_up_common_lock", Symbols: []symbol{
		{Name: "__wake_up_common_lock", Until: "6.7", Static: true, Note: "not a symbol of its own since the wait-bookmark removal (version not verified); its work runs inside __wake_up"},
		{Name: "__wake_up"},
	}},
	{Post: "add_to_pipe", Symbols: []symbol{{Name: "add_to_pipe"}}},
	{Post: "schedule", Symbols: []symbol{{Name: "schedule"}}},
	{Post: "splice_from_pipe", Symbols: []symbol{
		{Name: "splice_from_pipe"},
		{Name: "__splice_from_pipe"},
	}},
	{Post: "pipe_wait_readable", Symbols: []symbol{{Name: "pipe_wait_readable"}}},
	{Post: "pipe_wait_writable", Symbols: []symbol{{Name: "pipe_wait_writable"}}},
	{Post: "__do_sys_vmsplice", Symbols: []symbol{
		{Name: "__do_sys_vmsplice", Static: true},
		{Name: "vmsplice_to_pipe", Static: true, Note: "inlined on 6.18"},
		{Name: "iter_to_pipe", Static: true, Note: "inlined on 6.18"},
	}},
	{Post: "do_splice", Symbols: []symbol{
		{Name: "do_splice"},
		{Name: "__do_splice", Static: true},
	}},
}

// irqEnablePoints are symbols where a software cpu-clock timer in a VM
// without a PMU fires as soon as interrupts come back on, so self time
// piles up on them (see Attribution.IRQEnableSelf).
var irqEnablePoints = map[string]bool{
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

// entryFrames are the syscall plumbing every kernel stack starts with;
// summaries by inclusive share leave them out.
var entryFrames = map[string]bool{
	"entry_SYSCALL_64":               true,
	"entry_SYSCALL_64_after_hwframe": true,
	"do_syscall_64":                  true,
	"x64_sys_call":                   true,
}

// aliasIndex maps each real symbol name to the index of its alias.
var aliasIndex = func() map[string]int {
	m := map[string]int{}
	for i, a := range aliases {
		for _, s := range a.Symbols {
			m[s.Name] = i
		}
	}
	return m
}()

// Claim is what the post says limits one step, in its words, and how the
// attribution tests it: the share of Within's inclusive time (a frame of
// Role's stacks, by its post name) whose stacks hold any of Symbols (post
// names too, matched through aliases).
type Claim struct {
	// Mode is the step.
	Mode string
	// Bottleneck names the bottleneck in a few words; Words quotes or
	// closely follows the post, function names in `backquotes`.
	Bottleneck string
	Words      string
	// Role is whose stacks test the claim (the post's perf excerpts are
	// the writer's).
	Role   string
	Within string
	// Symbols are the post's names of the functions the claim is about.
	Symbols []string
	// Absent turns the test around: the claim holds when Symbols take at
	// most maxAbsentShare of Within (nobody sleeps in the busy loop).
	Absent bool
	// PostShare is the share the post's perf excerpt shows, 0 when the
	// post shows no profile of the step.
	PostShare float64
}

// Claim thresholds: a claim holds when its symbols take at least
// minClaimShare of Within ("the lion's share"), an Absent claim when they
// take at most maxAbsentShare.
const (
	minClaimShare  = 0.5
	maxAbsentShare = 0.05
)

// claims is the post's verdict on each step it profiles, beside the
// alias table that finds its symbols on other kernels. The post's shares
// are of the whole machine; the share of Within is the same ratio either
// way: write 24.08%+11.76% of pipe_write's 47.23%, splice 17.88%+16.57% of
// __do_sys_vmsplice's 44.30%, huge 14.90%+8.27% of 41.80%.
var claims = []Claim{
	{Mode: "write", Bottleneck: "copying pages and allocating them",
		Words: "within `pipe_write`, 3/4 of the time is spent copying or allocating pages (`copy_page_from_iter` and `__alloc_pages`)",
		Role:  "writer", Within: "pipe_write", Symbols: []string{"copy_page_from_iter", "__alloc_pages"}, PostShare: (24.08 + 11.76) / 47.23},
	{Mode: "vmsplice", Bottleneck: "getting and pinning user pages, and the pipe's mutex",
		Words: "`vmsplice` reduces by half the amount of copying we need to do; what the writer has left is moving the pages into the pipe (`iov_iter_get_pages`, `get_user_pages_fast`) and locking the pipe for writing (`__mutex_lock`)",
		Role:  "writer", Within: "__do_sys_vmsplice", Symbols: []string{"iov_iter_get_pages", "get_user_pages_fast", "__mutex_lock"}},
	{Mode: "splice", Bottleneck: "getting and pinning user pages, and the pipe's mutex",
		Words: "the lion's share of the time is taken by locking the pipe for writing (`__mutex_lock.constprop.0`), and by moving the pages into the pipe (`iov_iter_get_pages`)",
		Role:  "writer", Within: "__do_sys_vmsplice", Symbols: []string{"iov_iter_get_pages", "get_user_pages_fast", "__mutex_lock"}, PostShare: (17.88 + 16.57) / 44.30},
	{Mode: "huge", Bottleneck: "waiting for space and waking the other side",
		Words: "we're now spending a significant amount of time waiting for the pipe to be writeable (`wait_for_space`), and waking up readers which were waiting for the pipe to have content (`__wake_up_common_lock`)",
		Role:  "writer", Within: "__do_sys_vmsplice", Symbols: []string{"wait_for_space", "pipe_wait_writable", "__wake_up_common_lock"}, PostShare: (14.90 + 8.27) / 41.80},
	{Mode: "busy", Bottleneck: "what is left when nobody sleeps",
		Words: "to sidestep these synchronization costs, we can ask `vmsplice` to return if the pipe cannot be written to, and busy loop until it is",
		Role:  "writer", Within: "__do_sys_vmsplice", Symbols: []string{"wait_for_space", "pipe_wait_writable", "schedule"}, Absent: true},
}
