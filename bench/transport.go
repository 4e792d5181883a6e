package bench

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// transport makes what joins the children as the mode says (see
// Mode.Transport): a pipe sized as planned, an AF_UNIX stream
// socketpair, or a memfd for the ring and copy modes, which both children
// map. It returns the writer's file and the reader's.
func (r *runner) transport() ([]*os.File, error) {
	switch r.p.Transport {
	case socketTransport:
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("socketpair AF_UNIX SOCK_STREAM: %w", err)
		}
		return []*os.File{os.NewFile(uintptr(fds[0]), "socket-w"), os.NewFile(uintptr(fds[1]), "socket-r")}, nil
	case ringTransport, memoryTransport:
		return r.memfdTransport()
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe2: %w", err)
	}
	files := []*os.File{os.NewFile(uintptr(p[1]), "pipe-w"), os.NewFile(uintptr(p[0]), "pipe-r")}
	if err := r.sizePipe(p[1]); err != nil {
		closeAll(files)
		return nil, err
	}
	return files, nil
}

// memfdTransport makes the memfd of a ring or copy mode, sized but
// unpopulated (the children fault it in before the gate), and a second
// descriptor of it, one for each child.
func (r *runner) memfdTransport() ([]*os.File, error) {
	name := "pipelab-" + r.o.Mode
	fd, err := newMemfd(name)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	if err := unix.Ftruncate(fd, int64(memfdSize(r.p, r.o.BufSizeBytes))); err != nil {
		f.Close()
		return nil, fmt.Errorf("ftruncate memfd %s to %s: %w", name, FormatSize(int64(memfdSize(r.p, r.o.BufSizeBytes))), err)
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dup memfd %s: %w", name, err)
	}
	return []*os.File{f, os.NewFile(uintptr(dup), name)}, nil
}

// memfdCreate is memfd_create(2); a variable so that tests can refuse it.
var memfdCreate = unix.MemfdCreate

// newMemfd creates a memfd that the children may map. It asks for
// MFD_NOEXEC_SEAL (Linux 6.3), which a kernel with vm.memfd_noexec=2
// requires, and without it where the kernel does not know the flag.
func newMemfd(name string) (int, error) {
	fd, err := memfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_NOEXEC_SEAL)
	if errors.Is(err, unix.EINVAL) {
		fd, err = memfdCreate(name, unix.MFD_CLOEXEC)
	}
	if err != nil {
		return -1, fmt.Errorf("memfd_create %s: %w (pipelab needs memfd_create(2), Linux 3.17 or later, for the children's progress counters and the ring and copy modes; a seccomp filter or a sandbox may refuse it)", name, err)
	}
	return fd, nil
}
