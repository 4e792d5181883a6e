package profile

import (
	"fmt"
	"os"
	"path/filepath"

	pprof "github.com/google/pprof/profile"
)

// WriteFile checks p and writes it gzip-compressed to path through a
// temporary file in the same directory and a rename, so path holds either
// the whole profile or what it held before; nothing is left behind on
// error.
func WriteFile(path string, p *pprof.Profile) (err error) {
	if err := p.CheckValid(); err != nil {
		return fmt.Errorf("write profile %s: invalid profile: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write profile %s: %w (check that the --out directory exists and is writable)", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := p.Write(f); err != nil {
		return fmt.Errorf("write profile %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write profile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write profile %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("write profile %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write profile %s: %w", path, err)
	}
	return nil
}
