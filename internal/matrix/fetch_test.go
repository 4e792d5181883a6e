package matrix

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeApt serves the search output and, unless offline, packages whose
// tree holds the files named in debs.
type fakeApt struct {
	search    string
	offline   bool
	debs      map[string]map[string]string // package → path in the tree → content
	downloads []string
}

// aptOffline is what apt-get download says without a network.
const aptOffline = "Failed to fetch http://deb.debian.org/debian/pool/main/l/linux-signed-amd64/linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb  Temporary failure resolving 'deb.debian.org'"

func (f *fakeApt) Search(string) (string, error) { return f.search, nil }

func (f *fakeApt) Download(dir, pkg string) (string, error) {
	f.downloads = append(f.downloads, pkg)
	if f.offline {
		return "", errors.New("apt-get download " + pkg + ": " + aptOffline)
	}
	if _, ok := f.debs[pkg]; !ok {
		return "", errors.New("apt-get download " + pkg + ": Can't find a source to download version of '" + pkg + "'")
	}
	deb := filepath.Join(dir, "x.deb")
	return deb, os.WriteFile(deb, []byte(pkg), 0o644)
}

func (f *fakeApt) Extract(deb, dir string) error {
	pkg, err := os.ReadFile(deb)
	if err != nil {
		return err
	}
	for name, content := range f.debs[string(pkg)] {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func kernelTree(ver string) map[string]string {
	return map[string]string{"boot/vmlinuz-" + ver: "image " + ver, "boot/config-" + ver: "CONFIG_PERF_EVENTS=y\n"}
}

func TestCacheKernel(t *testing.T) {
	amd64 := Target{Series: "6.1", Arch: arches[0]}
	apt := &fakeApt{search: aptSearch, debs: map[string]map[string]string{
		"linux-image-6.1.0-57-cloud-amd64:amd64": kernelTree("6.1.0-57-cloud-amd64"),
		"linux-image-6.1.0-48-cloud-amd64:amd64": kernelTree("6.1.0-48-cloud-amd64"),
	}}
	c := &Cache{Dir: t.TempDir(), Apt: apt}
	k, err := c.Kernel(amd64)
	if err != nil || k.Package != "linux-image-6.1.0-57-cloud-amd64" || k.Note != "" {
		t.Fatalf("got %+v, %v; want the newest served", k, err)
	}
	if img, _ := os.ReadFile(k.Image); string(img) != "image 6.1.0-57-cloud-amd64" {
		t.Errorf("image holds %q", img)
	}
	// Cached: no second download.
	if k, err = c.Kernel(amd64); err != nil || len(apt.downloads) != 1 {
		t.Errorf("second fetch: %+v, %v, downloads %q; want the cache", k, err, apt.downloads)
	}
	// Offline with a cache: the cached kernel, said to be so.
	apt.search = "linux-image-6.1.0-58-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)\n"
	apt.offline = true
	if k, err = c.Kernel(amd64); err != nil || k.Package != "linux-image-6.1.0-57-cloud-amd64" || k.Note == "" {
		t.Errorf("offline: got %+v, %v; want the cached 6.1.0-57 with a note", k, err)
	}
}

func TestCacheKernelNewestNotServed(t *testing.T) {
	apt := &fakeApt{search: aptSearch, debs: map[string]map[string]string{
		"linux-image-6.1.0-48-cloud-amd64:amd64": kernelTree("6.1.0-48-cloud-amd64"),
	}}
	c := &Cache{Dir: t.TempDir(), Apt: apt}
	k, err := c.Kernel(Target{Series: "6.1", Arch: arches[0]})
	if err != nil || k.Package != "linux-image-6.1.0-48-cloud-amd64" {
		t.Fatalf("got %+v, %v; want the newest that is served", k, err)
	}
}

// TestCacheKernelOffline: no network and no cache is one line that says
// both and names the cache.
func TestCacheKernelOffline(t *testing.T) {
	dir := t.TempDir()
	c := &Cache{Dir: dir, Apt: &fakeApt{search: aptSearch, offline: true}}
	_, err := c.Kernel(Target{Series: "6.12", Arch: arches[1]})
	want := "6.12-arm64: apt-get download linux-image-6.12.118+deb12-cloud-arm64:arm64: " + aptOffline +
		", and no kernel of the series is cached in " + dir + " (check the network to Debian's archive)"
	var fe *FetchError
	if !errors.As(err, &fe) || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	// No arm64 in apt's lists: the remedy adds the architecture.
	c.Apt = &fakeApt{search: "linux-image-6.1.0-57-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)\n"}
	_, err = c.Kernel(Target{Series: "6.1", Arch: arches[1]})
	remedy := "dpkg --add-architecture arm64 && apt-get update"
	if hostDebArch() == "arm64" {
		remedy = "apt-get update"
	}
	want = "6.1-arm64: no linux-image-6.1.*-cloud-arm64 package in apt's lists and none cached in " + dir + " (as root: " + remedy + ")"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "kernel")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(dir, "kernel"))
		if len(entries) > 0 {
			t.Errorf("a failed fetch left %d entries in the cache", len(entries))
		}
	}
}
