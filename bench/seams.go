package bench

// THPEnabledAt points THPMode, Supported and Validate at path instead of
// /sys/kernel/mm/transparent_hugepage/enabled, and returns what puts the
// real file back: a seam for the tests of packages that need a machine
// whose transparent huge pages are off or missing. Not safe while a run
// is being validated.
func THPEnabledAt(path string) (restore func()) {
	old := thpEnabledPath
	thpEnabledPath = path
	return func() { thpEnabledPath = old }
}
