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

// MachineAt points copy-dram's sizing at another machine's files: dir for
// /sys/devices/system/cpu (its cpuN/cache/indexN/{size,level}) and
// meminfo for /proc/meminfo. It returns what puts the real ones back.
func MachineAt(dir, meminfoPath string) (restore func()) {
	oldDir, oldMem := cacheDir, meminfo
	cacheDir, meminfo = dir, meminfoPath
	return func() { cacheDir, meminfo = oldDir, oldMem }
}
