package bench

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits maps the accepted suffixes (lower case) to their multiplier.
// Every unit is a power of 1024, as in the post: 10G is 10GiB.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tib": 1 << 40,
}

const sizeHint = "use e.g. 4096, 256KiB, 1.5GiB or 10G; units are powers of 1024"

// SizeError is ParseSize's error: the text it was given and what is wrong
// with it. A caller that names the text its own way (a flag) uses Err.
type SizeError struct {
	Text string
	Err  error
}

// Error renders `size "10GB": not a size (...)`.
func (e *SizeError) Error() string { return fmt.Sprintf("size %q: %v", e.Text, e.Err) }

// Unwrap returns what is wrong with the text.
func (e *SizeError) Unwrap() error { return e.Err }

// ParseSize parses a byte count such as "4096", "256KiB", "256K", "1GiB",
// "10G" or "1.5GiB". Units K, M, G, T (or KiB, MiB, GiB, TiB, case
// insensitive) are powers of 1024. A fraction is accepted when the result
// is a whole number of bytes. Zero, negative and malformed sizes are
// errors, each a *SizeError.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+')
	})
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult, ok := sizeUnits[unit]
	if !ok || num == "" {
		return 0, &SizeError{s, fmt.Errorf("not a size (%s)", sizeHint)}
	}
	n, err := sizeValue(num, mult)
	if err != nil {
		return 0, &SizeError{s, err}
	}
	return n, nil
}

// sizeValue multiplies the decimal number num by mult.
func sizeValue(num string, mult int64) (int64, error) {
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("too large (%s)", sizeHint)
		}
		if err != nil {
			return 0, fmt.Errorf("not a size (%s)", sizeHint)
		}
		if n <= 0 {
			return 0, fmt.Errorf("must be positive (%s)", sizeHint)
		}
		if n > math.MaxInt64/mult {
			return 0, fmt.Errorf("too large (%s)", sizeHint)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a size (%s)", sizeHint)
	}
	if f <= 0 {
		return 0, fmt.Errorf("must be positive (%s)", sizeHint)
	}
	v := f * float64(mult)
	if v >= 1<<62 {
		return 0, fmt.Errorf("too large (%s)", sizeHint)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("not a whole number of bytes (%s)", sizeHint)
	}
	return int64(v), nil
}

// FormatSize renders n bytes with the largest binary unit that divides it
// exactly: 262144 is "256KiB", 1536 is "1536", 3<<30 is "3GiB".
func FormatSize(n int64) string {
	units := []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
