package attribute

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
	MinClaimShare  = 0.5
	MaxAbsentShare = 0.05
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
