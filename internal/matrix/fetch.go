package matrix

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Apt is what the matrix asks of Debian's package tools; SystemApt runs
// them, tests give a fake.
type Apt interface {
	// Search returns what `apt-cache search --names-only PATTERN` prints.
	Search(pattern string) (string, error)
	// Download fetches pkg (NAME:ARCH) into dir and returns the .deb's path.
	Download(dir, pkg string) (string, error)
	// Extract unpacks the .deb's files under dir, as `dpkg -x` does.
	Extract(deb, dir string) error
}

// SystemApt runs apt-cache, apt-get and dpkg.
type SystemApt struct{}

// Search runs apt-cache search.
func (SystemApt) Search(pattern string) (string, error) {
	out, err := exec.Command("apt-cache", "search", "--names-only", pattern).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache search %s: %w", pattern, err)
	}
	return string(out), nil
}

// Download runs apt-get download in dir.
func (SystemApt) Download(dir, pkg string) (string, error) {
	cmd := exec.Command("apt-get", "download", "-q", pkg)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %s", pkg, aptError(stderr.String(), err))
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: got %d .deb files, want 1", pkg, len(debs))
	}
	return debs[0], nil
}

// Extract runs dpkg -x.
func (SystemApt) Extract(deb, dir string) error {
	if out, err := exec.Command("dpkg", "-x", deb, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg -x %s: %v: %s", filepath.Base(deb), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// aptError is the line of apt's stderr that says what went wrong: its
// first "E:" line, else its last line, else err.
func aptError(stderr string, err error) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "E: ") {
			return strings.TrimPrefix(l, "E: ")
		}
	}
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return err.Error()
}

// Kernel is a kernel image ready to boot.
type Kernel struct {
	// Package is the Debian package it came from.
	Package string
	// Image is the path of the image in the cache.
	Image string
	// Note says when it is not the newest package served (offline).
	Note string
}

// FetchError says why no kernel or busybox could be had for a target.
type FetchError struct {
	Target  string
	Problem string
}

func (e *FetchError) Error() string { return e.Target + ": " + e.Problem }

// Cache fetches kernels and busybox from Debian's packages and keeps them
// under Dir between runs.
type Cache struct {
	Dir string
	Apt Apt
}

// kernelDir is where the image of pkg is kept.
func (c *Cache) kernelDir(pkg string) string { return filepath.Join(c.Dir, "kernel", pkg) }

// Kernel returns the newest cloud kernel of t's series that Debian serves,
// from the cache when it holds it. Offline, it falls back to the newest one
// cached, and says so in the Kernel's Note.
func (c *Cache) Kernel(t Target) (Kernel, error) {
	search, serr := c.Apt.Search("^linux-image-.*-cloud-" + t.Arch.Name + "$")
	cands := KernelCandidates(search, t.Series, t.Arch.Name)
	var lastErr error
	for i, pkg := range cands {
		if i == 2 {
			break // a third download would fail like the first two
		}
		img := filepath.Join(c.kernelDir(pkg), "vmlinuz")
		if _, err := os.Stat(img); err == nil {
			return Kernel{Package: pkg, Image: img}, nil
		}
		if err := c.download(pkg, t.Arch.Name, c.kernelDir(pkg), extractKernel); err != nil {
			lastErr = err
			continue
		}
		c.prune(t, pkg)
		return Kernel{Package: pkg, Image: img}, nil
	}
	if k, ok := c.newestCached(t); ok {
		k.Note = "the newest served could not be fetched; cached"
		return k, nil
	}
	switch {
	case lastErr != nil:
		return Kernel{}, &FetchError{t.String(), fmt.Sprintf("%v, and no kernel of the series is cached in %s (check the network to Debian's archive)", lastErr, c.Dir)}
	case serr != nil:
		return Kernel{}, &FetchError{t.String(), fmt.Sprintf("%v, and no kernel of the series is cached in %s", serr, c.Dir)}
	}
	remedy := "apt-get update"
	if t.Arch.Name != hostDebArch() {
		remedy = "dpkg --add-architecture " + t.Arch.Name + " && apt-get update"
	}
	return Kernel{}, &FetchError{t.String(), fmt.Sprintf("no linux-image-%s.*-cloud-%s package in apt's lists and none cached in %s (as root: %s)", t.Series, t.Arch.Name, c.Dir, remedy)}
}

// newestCached returns the newest kernel of t's series in the cache.
func (c *Cache) newestCached(t Target) (Kernel, bool) {
	entries, _ := os.ReadDir(filepath.Join(c.Dir, "kernel"))
	var lines []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(c.kernelDir(e.Name()), "vmlinuz")); err == nil {
			lines = append(lines, e.Name())
		}
	}
	cands := KernelCandidates(strings.Join(lines, "\n"), t.Series, t.Arch.Name)
	if len(cands) == 0 {
		return Kernel{}, false
	}
	return Kernel{Package: cands[0], Image: filepath.Join(c.kernelDir(cands[0]), "vmlinuz")}, true
}

// prune removes the cached kernels of t's series other than keep.
func (c *Cache) prune(t Target, keep string) {
	entries, _ := os.ReadDir(filepath.Join(c.Dir, "kernel"))
	for _, e := range entries {
		if s, a, ok := KernelSeries(e.Name()); ok && s == t.Series && a == t.Arch.Name && e.Name() != keep {
			os.RemoveAll(c.kernelDir(e.Name()))
		}
	}
}

// Busybox returns a static busybox for arch, from busybox-static.
func (c *Cache) Busybox(arch Arch) (string, error) {
	dir := filepath.Join(c.Dir, "busybox", arch.Name)
	bin := filepath.Join(dir, "busybox")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := c.download("busybox-static", arch.Name, dir, extractBusybox); err != nil {
		return "", &FetchError{"busybox " + arch.Name, fmt.Sprintf("%v, and none is cached in %s", err, c.Dir)}
	}
	return bin, nil
}

// download fetches pkg:arch, unpacks it, and lets keep move what the
// matrix needs from the unpacked tree into a temporary folder that then
// becomes dest, so dest is complete or absent.
func (c *Cache) download(pkg, arch, dest string, keep func(tree, dest string) error) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(c.Dir, ".fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	deb, err := c.Apt.Download(tmp, pkg+":"+arch)
	if err != nil {
		return err
	}
	tree := filepath.Join(tmp, "tree")
	if err := c.Apt.Extract(deb, tree); err != nil {
		return err
	}
	out := filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	if err := keep(tree, out); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(deb), err)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	os.RemoveAll(dest)
	return os.Rename(out, dest)
}

// extractKernel keeps boot/vmlinuz-* as vmlinuz and boot/config-* as config.
func extractKernel(tree, dest string) error {
	for _, f := range []struct{ glob, name string }{{"boot/vmlinuz-*", "vmlinuz"}, {"boot/config-*", "config"}} {
		m, _ := filepath.Glob(filepath.Join(tree, f.glob))
		sort.Strings(m)
		if len(m) == 0 {
			return fmt.Errorf("no %s in the package", f.glob)
		}
		if err := os.Rename(m[0], filepath.Join(dest, f.name)); err != nil {
			return err
		}
	}
	return nil
}

// extractBusybox keeps bin/busybox.
func extractBusybox(tree, dest string) error {
	err := os.Rename(filepath.Join(tree, "bin", "busybox"), filepath.Join(dest, "busybox"))
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no bin/busybox in the package")
	}
	return err
}
