// Package attribute says where a profile's time went in the kernel, in
// the words of "How fast are Linux pipes anyway?": per role, the share of
// each kernel symbol the post names (found on any kernel through an alias
// table that knows their renames), the other kernel symbols, what changed
// between two profiles (Diff, DiffFiles), whether the post's claim for a
// step holds (CheckClaim), figures per page or per GiB derived from them
// (Derive), and, for a wall profile, on-CPU against off-CPU time, the
// blocking sites and who woke the roles (Wall, WakerSites).
//
// attribute computes rows; its Write* functions render them as text,
// Markdown or JSON. It reads pprof values only: it never opens a file
// other than through result, never runs a child and never renders a
// flame graph or a report.
package attribute
