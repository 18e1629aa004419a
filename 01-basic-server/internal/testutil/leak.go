package testutil

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// The leak checks use go.uber.org/goleak, which knows the runtime's and the
// testing package's own goroutines and waits for those on their way out: the
// two things a hand-written scan of runtime.Stack gets wrong first.

// Main runs a package's tests from TestMain:
//
//	func TestMain(m *testing.M) { testutil.Main(m) }
//
// After the tests it removes the binaries built by Build and, if every test
// passed, fails the run when any goroutine is still running: a leak anywhere
// in the package is caught even in tests that do not call CheckLeaks.
func Main(m *testing.M) {
	builds.mu.Lock()
	builds.inMain = true
	builds.mu.Unlock()

	code := m.Run()
	removeBuilds()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "testutil.Main: goroutines still running after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// CheckLeaks fails t if a goroutine started during t is still running once t
// and all its cleanups have finished. Call it first in the test: cleanups run
// last-in first-out, so its check then runs after the cleanups that stop the
// servers and close the connections the test opened. (A deferred check would
// run before them and blame goroutines that are about to be stopped.)
// Do not use it in parallel tests: their goroutines would be counted too.
func CheckLeaks(t testing.TB) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := goleak.Find(before); err != nil {
			t.Errorf("goroutines started by %s are still running: %v", t.Name(), err)
		}
	})
}
