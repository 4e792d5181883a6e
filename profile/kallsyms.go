package profile

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pipelab/pipelab/internal/kallsyms"
)

// Kallsyms is a sorted kernel symbol table read from /proc/kallsyms.
// Only text symbols (types t, T, w, W) are kept; a symbol is taken to
// extend up to the next symbol's address.
type Kallsyms struct {
	syms []kallsyms.Symbol // by address; Module "" for the core kernel image
}

// LoadKallsyms reads /proc/kallsyms. It wraps ErrRestrictedKernel when
// every address reads as zero, and names the setting that hides them
// (hiddenBy).
func LoadKallsyms() (*Kallsyms, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, fmt.Errorf("load kallsyms: %w", err)
	}
	defer f.Close()
	k, err := ParseKallsyms(f)
	if errors.Is(err, ErrRestrictedKernel) {
		kptr, kerr := KptrRestrict()
		paranoid, perr := Paranoid()
		if kerr != nil || perr != nil {
			kptr, paranoid = -1, -1
		}
		return nil, fmt.Errorf("load kallsyms: %w (%s)", err, hiddenBy(kptr, paranoid))
	}
	if err != nil {
		return nil, fmt.Errorf("load kallsyms: %w", err)
	}
	return k, nil
}

// hiddenBy says which setting makes /proc/kallsyms show this process zero
// addresses, given kernel.kptr_restrict and kernel.perf_event_paranoid (-1
// when they could not be read), and the remedy. The kernel shows them
// (kallsyms_show_value) with kptr_restrict=0 when perf_event_paranoid is
// 1 or lower, with kptr_restrict 0 or 1 to a process with CAP_SYSLOG, and
// with kptr_restrict=2 to nobody.
func hiddenBy(kptr, paranoid int) string {
	switch {
	case kptr < 0 || paranoid < 0:
		return "kernel.kptr_restrict or kernel.perf_event_paranoid hides them; run as root"
	case kptr >= 2:
		return fmt.Sprintf("kernel.kptr_restrict=%d hides them from everyone; set it to 0 or 1 and run as root", kptr)
	case kptr == 1:
		return "kernel.kptr_restrict=1 hides them from users without CAP_SYSLOG; run as root"
	}
	return fmt.Sprintf("kernel.perf_event_paranoid=%d hides them from users without CAP_SYSLOG, kernel.kptr_restrict being 0; run as root, or set perf_event_paranoid to 1 or lower", paranoid)
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
		k.syms = append(k.syms, s)
	})
	if err != nil {
		return nil, fmt.Errorf("parse kallsyms: %w", err)
	}
	if sawText && len(k.syms) == 0 {
		return nil, fmt.Errorf("parse kallsyms: %w (every text symbol's address reads as zero)", ErrRestrictedKernel)
	}
	slices.SortStableFunc(k.syms, func(a, b kallsyms.Symbol) int { return cmp.Compare(a.Addr, b.Addr) })
	return k, nil
}

// Len returns the number of text symbols.
func (k *Kallsyms) Len() int { return len(k.syms) }

// Lookup returns the symbol whose range holds addr: the last symbol at or
// below addr (of aliases at one address, the last listed). __pfx_ padding
// symbols (since 6.2) count as the end of the function before them in the
// same module, so a
// return address just past a noreturn call names its caller. module is ""
// for the core kernel and the module name otherwise. ok is false below the
// first symbol.
func (k *Kallsyms) Lookup(addr uint64) (name, module string, ok bool) {
	i := sort.Search(len(k.syms), func(i int) bool { return k.syms[i].Addr > addr }) - 1
	for i > 0 && strings.HasPrefix(k.syms[i].Name, "__pfx_") && k.syms[i-1].Module == k.syms[i].Module {
		i--
	}
	if i < 0 {
		return "", "", false
	}
	return k.syms[i].Name, k.syms[i].Module, true
}
