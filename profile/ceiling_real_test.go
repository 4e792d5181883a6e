package profile_test

import (
	"testing"

	"github.com/pipelab/pipelab/profile"
)

// TestProfileRing: a profile of the futex ring shows where its time goes,
// as docs/ceiling.md reads it: both sides copy (runtime.memmove, into the
// ring and out of it), and a side that finds the ring full or empty
// sleeps in futex(2) (futex_wait), woken by the other (futex_wake). Which
// side sleeps depends on which is the faster here; one of them must.
func TestProfileRing(t *testing.T) {
	res := profilePair(t, "ring", 2<<30)
	w, r := res.Roles[0].Profile, res.Roles[1].Profile
	for _, role := range res.Roles {
		if !hasCall(role.Profile, "runtime.memmove", "bench.(*child).ring") {
			t.Errorf("%s: no runtime.memmove under the ring's loop\n%s", role.Name, top(role.Profile))
		}
	}
	writerSlept := hasCall(w, "futex_wait", "do_futex") && hasCall(r, "futex_wake", "do_futex")
	readerSlept := hasCall(r, "futex_wait", "do_futex") && hasCall(w, "futex_wake", "do_futex")
	if !writerSlept && !readerSlept {
		t.Errorf("no side sleeps in futex_wait woken by the other's futex_wake\nwriter: %s\nreader: %s", top(w), top(r))
	}
	t.Logf("writer sleeps on a full ring: %v; reader on an empty one: %v", writerSlept, readerSlept)
}

// TestProfileRingBusy: the busy ring never enters the kernel to wait: its
// sides copy and spin, and no futex call is sampled.
func TestProfileRingBusy(t *testing.T) {
	res := profilePair(t, "ring-busy", 512<<20)
	for _, r := range res.Roles {
		if !hasCall(r.Profile, "runtime.memmove", "bench.(*child).ring") {
			t.Errorf("%s: no runtime.memmove under the ring's loop\n%s", r.Name, top(r.Profile))
		}
		if hasCall(r.Profile, "futex", "bench.(*child).ring") {
			t.Errorf("%s: a futex call from the busy ring's loop; first such stack, leaf first:\n%s", r.Name, stackWith(r.Profile, "futex"))
		}
	}
}

// TestProfileCopy: the copy ceiling's reader spends its time copying,
// and its writer, which laid its bytes out before the start, never copies
// after it (it sleeps on the futex until the reader is done, and may not
// be sampled at all, which is why this test does not use profilePair).
func TestProfileCopy(t *testing.T) {
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	runPair(t, "copy", 4<<30, p)
	res := p.Result()
	w, r := res.Roles[0], res.Roles[1]
	if w.Name != "writer" || r.Name != "reader" {
		t.Fatalf("roles %s, %s; want writer, reader", w.Name, r.Name)
	}
	if !hasCall(r.Profile, "runtime.memmove", "bench.(*child).copyRead") {
		t.Errorf("reader: no runtime.memmove under copyRead\n%s", top(r.Profile))
	}
	if hasCall(w.Profile, "runtime.memmove", "") {
		t.Errorf("writer: copies after the start; first such stack:\n%s", stackWith(w.Profile, "runtime.memmove"))
	}
	t.Logf("writer %d samples, reader %d", w.Samples, r.Samples)
}
