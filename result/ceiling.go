package result

// The ceilings. Beside the post's steps a ladder can measure what moving
// bytes can cost at best on its machine: one core's memory copy (the most
// a reader that must have the bytes in its memory can take) and the
// busy-polling shared-memory ring (the fastest way measured here for two
// processes to hand each other bytes). A step that measures one says so
// in Step.Ceiling, and every step's throughput can then be read as a
// fraction of each (docs/ceiling.md).

// The names of the ceilings (Ceiling.Name, Step.Ceiling).
const (
	// CeilingCopy is one core's memory copy bandwidth for the step's
	// buffer size, source and destination in cache.
	CeilingCopy = "copy"
	// CeilingRing is the busy-polling shared-memory ring between two
	// processes: the best transport measured on the machine.
	CeilingRing = "ring"
)

// Ceiling is one limit measured beside a ladder's steps.
type Ceiling struct {
	// Name is CeilingCopy or CeilingRing.
	Name string `json:"name"`
	// Step is the step that measured it: of several steps that measure
	// one ceiling (the ring with and without streaming stores), the one
	// with the highest median.
	Step string `json:"step"`
	// MedianGiBs is that step's median throughput.
	MedianGiBs GiBs `json:"median_gib_s"`
}

// Ceilings returns the ceilings the steps measured, copy first; a
// ceiling whose steps have no throughput is left out.
func Ceilings(steps []Step) []Ceiling {
	var out []Ceiling
	for _, name := range []string{CeilingCopy, CeilingRing} {
		best := Ceiling{Name: name}
		for _, s := range steps {
			if s.Ceiling == name && s.MedianGiBs > best.MedianGiBs {
				best.Step, best.MedianGiBs = s.Mode, s.MedianGiBs
			}
		}
		if best.MedianGiBs > 0 {
			out = append(out, best)
		}
	}
	return out
}

// Of returns g as a fraction of the ceiling called name among cs, 0 when
// cs has no such ceiling.
func Of(g GiBs, name string, cs []Ceiling) float64 {
	for _, c := range cs {
		if c.Name == name && c.MedianGiBs > 0 {
			return float64(g / c.MedianGiBs)
		}
	}
	return 0
}
