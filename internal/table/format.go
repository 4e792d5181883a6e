package table

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Float formats v with prec decimals.
func Float(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// GiBs formats a throughput in GiB/s with two decimals, or "—" for 0.
func GiBs(v float64) string {
	if v == 0 {
		return "—"
	}
	return Float(v, 2)
}

// Speedup formats a ratio as "×3.09", or "" for the first row.
func Speedup(v float64) string {
	if v == 0 {
		return ""
	}
	return "×" + Float(v, 2)
}

// Aligned writes cells as columns two spaces apart, each aligned
// left ('l') or right ('r'), trailing blanks trimmed.
func Aligned(w io.Writer, align string, cells [][]string) error {
	width := make([]int, len(align))
	for _, r := range cells {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range cells {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if align[i] == 'r' {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
			if i < len(r)-1 {
				line.WriteString("  ")
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Nanos formats nanoseconds as pprof does durations.
func Nanos(v float64) string { return Value(int64(v+0.5), "time/nanoseconds") }

// PerGiB formats a count per GiB.
func PerGiB(v float64) string {
	if v >= 100 {
		return Float(v, 0)
	}
	return Float(v, 1)
}

// ShortPercent formats a share with one decimal: "33.4%".
func ShortPercent(share float64) string { return fmt.Sprintf("%.1f%%", 100*share) }
