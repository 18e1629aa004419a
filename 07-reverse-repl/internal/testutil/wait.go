package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond until it returns true and fails the test if that takes
// longer than Timeout; what names the condition in the failure message. Use
// it only for state that offers nothing to wait on; prefer Receive on a
// channel when there is one.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, cond, Timeout)
}

func waitFor(t testing.TB, what string, cond func() bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		<-tick.C
	}
}

// Receive returns the next value from ch and fails the test if none arrives
// within Timeout; what names the value in the failure message. A closed
// channel gives its zero value at once, so Receive also waits for a done
// channel to be closed.
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return receive(t, ch, what, Timeout)
}

func receive[T any](t testing.TB, ch <-chan T, what string, timeout time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("waited %v for %s", timeout, what)
	}
	var zero T // only reached when t.Fatalf does not stop the goroutine
	return zero
}
