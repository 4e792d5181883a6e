package profile

import perf "github.com/elastic/go-perf"

// SetOpenSwitch replaces how the wall view opens its context-switch
// events, to play a kernel that refuses them, and returns a function that
// restores it.
func SetOpenSwitch(open func(tid int) (*perf.Event, error)) (restore func()) {
	old := openSwitch
	openSwitch = open
	return func() { openSwitch = old }
}

// OpenSwitch is the real opener of the context-switch events.
var OpenSwitch = openSwitch
