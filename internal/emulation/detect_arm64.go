package emulation

import "os"

func detect() CPU {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return CPU{Evidence: "no /proc/cpuinfo: " + err.Error()}
	}
	defer f.Close()
	c, err := FromCPUInfo(f)
	if err != nil {
		return CPU{Evidence: err.Error()}
	}
	return c
}
