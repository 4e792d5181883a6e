package profile

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/pipelab/pipelab/internal/kallsyms"
)

// Kallsyms is a sorted kernel symbol table read from /proc/kallsyms.
// Only text symbols (types t, T, w, W) are kept; a symbol is taken to
// extend up to the next symbol's address.
type Kallsyms struct {
	addrs   []uint64
	names   []string
	modules []string // "" for the core kernel image
}

// LoadKallsyms reads /proc/kallsyms. It wraps ErrRestrictedKernel when
// every address reads as zero (kernel.kptr_restrict, or not root).
func LoadKallsyms() (*Kallsyms, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, fmt.Errorf("load kallsyms: %w", err)
	}
	defer f.Close()
	k, err := ParseKallsyms(f)
	if err != nil {
		return nil, fmt.Errorf("load kallsyms: %w", err)
	}
	return k, nil
}

// ParseKallsyms builds the table from r, in the /proc/kallsyms format
// (internal/kallsyms parses it): the text symbols with an address. It
// wraps ErrRestrictedKernel when text symbols exist but all their
// addresses are zero.
func ParseKallsyms(r io.Reader) (*Kallsyms, error) {
	k := &Kallsyms{}
	sawText := false
	err := kallsyms.Parse(r, func(s kallsyms.Symbol) {
		if !s.Text() {
			return
		}
		sawText = true
		if s.Addr == 0 {
			return
		}
		k.addrs = append(k.addrs, s.Addr)
		k.names = append(k.names, s.Name)
		k.modules = append(k.modules, s.Module)
	})
	if err != nil {
		return nil, fmt.Errorf("parse kallsyms: %w", err)
	}
	if sawText && len(k.addrs) == 0 {
		return nil, fmt.Errorf("parse kallsyms: %w (kernel.kptr_restrict hides kernel addresses; run as root with kptr_restrict=0 or 1)", ErrRestrictedKernel)
	}
	sort.Stable(byAddr{k})
	return k, nil
}

// Len returns the number of text symbols.
func (k *Kallsyms) Len() int { return len(k.addrs) }

// Lookup returns the symbol whose range holds addr: the last symbol at or
// below addr (of aliases at one address, the last listed). __pfx_ padding
// symbols (since 6.2) count as the end of the function before them in the
// same module, so a
// return address just past a noreturn call names its caller. module is ""
// for the core kernel and the module name otherwise. ok is false below the
// first symbol.
func (k *Kallsyms) Lookup(addr uint64) (name, module string, ok bool) {
	i := sort.Search(len(k.addrs), func(i int) bool { return k.addrs[i] > addr }) - 1
	for i > 0 && strings.HasPrefix(k.names[i], "__pfx_") && k.modules[i-1] == k.modules[i] {
		i--
	}
	if i < 0 {
		return "", "", false
	}
	return k.names[i], k.modules[i], true
}

// byAddr sorts the three parallel slices by address.
type byAddr struct{ k *Kallsyms }

func (b byAddr) Len() int           { return len(b.k.addrs) }
func (b byAddr) Less(i, j int) bool { return b.k.addrs[i] < b.k.addrs[j] }
func (b byAddr) Swap(i, j int) {
	k := b.k
	k.addrs[i], k.addrs[j] = k.addrs[j], k.addrs[i]
	k.names[i], k.names[j] = k.names[j], k.names[i]
	k.modules[i], k.modules[j] = k.modules[j], k.modules[i]
}
