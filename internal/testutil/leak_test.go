package testutil

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"example.com/sockets/internal/testutil/internal/fake"
)

func TestCheckLeaksFindsALeak(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f := fake.Run(t, func(tb testing.TB) {
		CheckLeaks(tb)
		go func() { <-release }() // still blocked when the fake test ends
	})
	assert.Contains(t, f.Report(), "are still running")
	assert.Contains(t, f.Report(), "TestCheckLeaksFindsALeak")
}

func TestCheckLeaksRunsAfterLaterCleanups(t *testing.T) {
	f := fake.Run(t, func(tb testing.TB) {
		CheckLeaks(tb)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { <-stop; close(done) }()
		// Registered after CheckLeaks, so it runs before the check:
		// the goroutine is gone by then.
		tb.Cleanup(func() { close(stop); <-done })
	})
	assert.Empty(t, f.Report())
}
