//go:build !amd64 && !arm64

package emulation

func detect() CPU {
	return CPU{Evidence: "not checked on this architecture"}
}
