package matrix

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Accelerator choices of Config.Accel.
const (
	AccelAuto = "auto"
	AccelKVM  = "kvm"
	AccelTCG  = "tcg"
)

// kvmBootTimeout is how long a KVM boot may take before the matrix takes
// KVM for unable to boot stock kernels here and falls back to TCG: a
// kernel under KVM prints its init line within seconds.
const kvmBootTimeout = 30 * time.Second

// Config is one run of the matrix.
type Config struct {
	Targets []Target
	// Module is the root of pipelab's module, where the binaries are built.
	Module string
	// Out receives one folder per target (console.log and the checks'
	// files, the ladder among them) and .build.
	Out   string
	Cache *Cache
	// Accel is AccelAuto, AccelKVM or AccelTCG.
	Accel string
	// Bytes is the checks' transfer size.
	Bytes string
	// BootTimeout and Timeout bound each guest under TCG.
	BootTimeout, Timeout time.Duration
	// Log receives progress lines.
	Log io.Writer
}

// QEMUMissingError is an emulator the targets need that is not installed.
type QEMUMissingError struct{ Arch Arch }

func (e *QEMUMissingError) Error() string {
	return fmt.Sprintf("%s is not installed (as root: apt-get install %s)", e.Arch.QEMU, e.Arch.Package)
}

// CheckQEMU returns a *QEMUMissingError for the first target whose
// emulator is not on PATH.
func CheckQEMU(ts []Target) error {
	for _, t := range ts {
		if _, err := exec.LookPath(t.Arch.QEMU); err != nil {
			return &QEMUMissingError{t.Arch}
		}
	}
	return nil
}

// Row is one target's run.
type Row struct {
	Target Target
	Kernel Kernel
	// Accel is KVM or TCG; AccelNote says why TCG when KVM was tried.
	Accel, AccelNote string
	Outcome          *Outcome
	// Dir holds the target's console.log and the files the guest sent.
	Dir string
}

// Matrix is a whole run: a row per target and the comparison of their
// ladders.
type Matrix struct {
	Rows    []*Row
	Compare *Compare
	// Bytes is the checks' transfer size.
	Bytes string
	Date  time.Time
}

// Run fetches every target's kernel, builds the static binaries per
// architecture, boots each guest in turn and, when two or more ladders
// came out, compares them with the host's pipelab.
func Run(cfg Config) (*Matrix, error) {
	if err := CheckQEMU(cfg.Targets); err != nil {
		return nil, err
	}
	m := &Matrix{Bytes: cfg.Bytes, Date: time.Now().UTC()}
	busybox := map[string]string{}
	for _, t := range cfg.Targets {
		k, err := cfg.Cache.Kernel(t)
		if err != nil {
			return nil, err
		}
		if _, ok := busybox[t.Arch.Name]; !ok {
			if busybox[t.Arch.Name], err = cfg.Cache.Busybox(t.Arch); err != nil {
				return nil, err
			}
		}
		m.Rows = append(m.Rows, &Row{Target: t, Kernel: k, Dir: filepath.Join(cfg.Out, t.String())})
	}
	build := filepath.Join(cfg.Out, ".build")
	bins := map[string][2]string{}
	for _, r := range m.Rows {
		a := r.Target.Arch.Name
		if _, ok := bins[a]; ok {
			continue
		}
		fmt.Fprintf(cfg.Log, "matrix: building static pipelab and e2e.test for %s\n", a)
		p, e, err := buildStatic(cfg.Module, filepath.Join(build, a), a)
		if err != nil {
			return nil, err
		}
		bins[a] = [2]string{p, e}
	}
	kvmFailed := false
	for _, r := range m.Rows {
		b := bins[r.Target.Arch.Name]
		g := Guest{Busybox: busybox[r.Target.Arch.Name], Pipelab: b[0], E2E: b[1], Bytes: cfg.Bytes,
			TestTimeout: (cfg.Timeout - cfg.BootTimeout/2).Round(time.Second).String()}
		if err := runGuest(cfg, r, g, build, &kvmFailed); err != nil {
			return nil, err
		}
	}
	host, err := buildHost(cfg.Module, build)
	if err != nil {
		return nil, err
	}
	m.Compare = compareLadders(host, m.Rows)
	return m, nil
}

// runGuest boots r's guest, choosing the accelerator, and unpacks what it
// sent into r.Dir.
func runGuest(cfg Config, r *Row, g Guest, build string, kvmFailed *bool) error {
	if err := os.RemoveAll(r.Dir); err != nil {
		return err
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return err
	}
	initrd := filepath.Join(build, r.Target.String()+".cpio")
	var buf bytes.Buffer
	if err := g.WriteInitramfs(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(initrd, buf.Bytes(), 0o644); err != nil {
		return err
	}
	boot := Boot{Arch: r.Target.Arch, Kernel: r.Kernel.Image, Initrd: initrd, MemMiB: 1024, CPUs: 2,
		BootTimeout: cfg.BootTimeout, Timeout: cfg.Timeout}
	tryKVM := cfg.Accel == AccelKVM || (cfg.Accel == AccelAuto && !*kvmFailed && KVMUsable(r.Target.Arch))
	if tryKVM {
		boot.KVM, boot.BootTimeout = true, kvmBootTimeout
		o := bootLogged(cfg, r, boot)
		if o.Ending != NoBoot || cfg.Accel == AccelKVM {
			r.Outcome, r.Accel = o, boot.Accel()
			return unpack(r)
		}
		*kvmFailed = true
		r.AccelNote = fmt.Sprintf("KVM did not boot the kernel within %v (a /dev/kvm that cannot run stock kernels, such as PVM's); TCG", kvmBootTimeout)
		fmt.Fprintf(cfg.Log, "matrix: %s: %s\n", r.Target, r.AccelNote)
		boot.KVM, boot.BootTimeout = false, cfg.BootTimeout
	}
	r.Outcome, r.Accel = bootLogged(cfg, r, boot), boot.Accel()
	return unpack(r)
}

// bootLogged boots, keeping the console in r.Dir/console.log.
func bootLogged(cfg Config, r *Row, b Boot) *Outcome {
	fmt.Fprintf(cfg.Log, "matrix: %s: booting %s under %s\n", r.Target, r.Kernel.Package, b.Accel())
	start := time.Now()
	f, err := os.Create(filepath.Join(r.Dir, "console.log"))
	if err == nil {
		b.Log = f
		defer f.Close()
	}
	o := b.Run()
	fmt.Fprintf(cfg.Log, "matrix: %s: %s after %v, %d console lines\n", r.Target, o.Ending, time.Since(start).Round(time.Second), o.Console.Lines)
	return o
}

// unpack writes the files the guest sent under r.Dir.
func unpack(r *Row) error {
	data, ok := r.Outcome.Console.Files["out.tar.gz"]
	if !ok {
		return nil
	}
	if err := untar(data, r.Dir); err != nil {
		r.Outcome.Console.FileErrors = append(r.Outcome.Console.FileErrors, "out.tar.gz: "+err.Error())
	}
	return nil
}

// untar unpacks a tar.gz of regular files and folders under dir.
func untar(data []byte, dir string) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if name == "." {
			continue
		}
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("%s: outside the folder", h.Name)
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return err
			}
		}
	}
}

// buildStatic builds a static pipelab and the e2e test binary for arch
// into dir.
func buildStatic(module, dir, arch string) (pipelab, e2e string, err error) {
	pipelab, e2e = filepath.Join(dir, "pipelab"), filepath.Join(dir, "e2e.test")
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	for _, args := range [][]string{
		{"build", "-trimpath", "-o", pipelab, "./cmd/pipelab"},
		{"test", "-c", "-trimpath", "-o", e2e, "./e2e"},
	} {
		if err := goCmd(module, env, args); err != nil {
			return "", "", err
		}
	}
	return pipelab, e2e, nil
}

// buildHost builds pipelab for this machine, for compare.
func buildHost(module, dir string) (string, error) {
	bin := filepath.Join(dir, "host", "pipelab")
	return bin, goCmd(module, os.Environ(), []string{"build", "-o", bin, "./cmd/pipelab"})
}

// goCmd runs the go command in module.
func goCmd(module string, env, args []string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = module, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
