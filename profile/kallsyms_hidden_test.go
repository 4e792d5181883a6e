package profile

import "testing"

// TestHiddenBy: the setting blamed for zero addresses in /proc/kallsyms
// is the one that hides them, as kallsyms_show_value decides.
func TestHiddenBy(t *testing.T) {
	for _, tc := range []struct {
		kptr, paranoid int
		want           string
	}{
		{0, 2, "kernel.perf_event_paranoid=2 hides them from users without CAP_SYSLOG, kernel.kptr_restrict being 0; run as root, or set perf_event_paranoid to 1 or lower"},
		{0, 3, "kernel.perf_event_paranoid=3 hides them from users without CAP_SYSLOG, kernel.kptr_restrict being 0; run as root, or set perf_event_paranoid to 1 or lower"},
		{1, 1, "kernel.kptr_restrict=1 hides them from users without CAP_SYSLOG; run as root"},
		{2, -1, "kernel.kptr_restrict or kernel.perf_event_paranoid hides them; run as root"},
		{2, 0, "kernel.kptr_restrict=2 hides them from everyone; set it to 0 or 1 and run as root"},
	} {
		if got := hiddenBy(tc.kptr, tc.paranoid); got != tc.want {
			t.Errorf("hiddenBy(%d, %d):\ngot  %s\nwant %s", tc.kptr, tc.paranoid, got, tc.want)
		}
	}
}
