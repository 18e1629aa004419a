package testutil

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"example.com/sockets/internal/testutil/internal/fake"
)

func TestWaitFor(t *testing.T) {
	var ready atomic.Bool
	go ready.Store(true)
	WaitFor(t, "ready", ready.Load)
	assert.True(t, ready.Load())
}

func TestWaitForTimesOut(t *testing.T) {
	f := fake.Run(t, func(tb testing.TB) { waitFor(tb, "never", func() bool { return false }, 20*time.Millisecond) })
	assert.Equal(t, "waited 20ms for never", f.Report())
}

func TestReceive(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 42
	assert.Equal(t, 42, Receive(t, ch, "the answer"))
}

func TestReceiveClosed(t *testing.T) {
	done := make(chan struct{})
	close(done)
	assert.Equal(t, struct{}{}, Receive(t, done, "done"))
}

func TestReceiveTimesOut(t *testing.T) {
	f := fake.Run(t, func(tb testing.TB) { receive(tb, make(chan int), "a value", 20*time.Millisecond) })
	assert.Equal(t, "waited 20ms for a value", f.Report())
}
