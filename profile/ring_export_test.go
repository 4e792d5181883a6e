package profile

// SampleEachThread makes p sample every thread of the children instead of
// every CPU, the fallback taken where CPU-wide events are refused, so the
// tests exercise it here too.
func SampleEachThread(p *Profiler) { p.perThread = true }
