// Package fake gives the kit's own tests a stand-in for *testing.T, so they
// can check what a helper reports when things go wrong. It is part of the
// kit's module only: scripts/sync-testutil does not copy it into chapters.
package fake

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TB stands in for a *testing.T. Errors, fatals and skips are recorded;
// Fatal and Skip end the goroutine as the real ones do.
type TB struct {
	testing.TB // the real test, for the methods not overridden here

	mu       sync.Mutex
	errors   []string
	skipped  string
	cleanups []func()
}

func (f *TB) Helper() {}

func (f *TB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *TB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }

func (f *TB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *TB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *TB) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skipped = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *TB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0
}

func (f *TB) Skipped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.skipped != ""
}

func (f *TB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// Errors returns the messages of every error and fatal recorded, in order.
func (f *TB) Errors() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errors...)
}

// Report returns everything recorded, one message a line.
func (f *TB) Report() string { return strings.Join(f.Errors(), "\n") }

// SkipReason returns the message of the skip, or "" if there was none.
func (f *TB) SkipReason() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.skipped
}

// timeout bounds how long Run waits for the body and for the cleanups: the
// kit's Timeout, which this package cannot import.
const timeout = 10 * time.Second

// Run runs body with a fake TB on its own goroutine (so that Fatal can end
// it) and then runs the cleanups body registered, last first. It fails t if
// either takes longer than 10 seconds.
func Run(t *testing.T, body func(tb testing.TB)) *TB {
	t.Helper()
	f := &TB{TB: t}
	wait(t, "the fake test body to end", func() { body(f) })
	wait(t, "the fake test's cleanups to end", func() {
		for i := len(f.cleanups) - 1; i >= 0; i-- {
			f.cleanups[i]()
		}
	})
	return f
}

func wait(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
