package multiconn_test

// The error table's two kinds of timeout, told apart: the kernel's
// ETIMEDOUT, and a time limit set by the program.

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/05-multiconn/internal/testutil"
)

// TestTimeoutErrors shows what each timeout looks like to errors.Is and to
// net.Error's Timeout(). Chapter 01 makes the kernel's ETIMEDOUT happen,
// with a listener whose accept queue is full; here it is the value itself.
func TestTimeoutErrors(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()

	// A Read deadline that passes: os.ErrDeadlineExceeded, "i/o timeout".
	c := testutil.Dial(t, addr)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(-time.Second)))
	_, readErr := c.Read(make([]byte, 1))

	// A dial whose time limit has passed says "i/o timeout" too, but wraps
	// context.DeadlineExceeded here; when the limit runs out during the
	// connect, it may wrap os.ErrDeadlineExceeded instead (which of two
	// timers inside Go fires first decides).
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	var d net.Dialer
	_, dialErr := d.DialContext(ctx, "tcp", addr)

	tests := []struct {
		name          string
		err           error
		deadline      bool // errors.Is(err, os.ErrDeadlineExceeded)
		contextDone   bool // errors.Is(err, context.DeadlineExceeded)
		kernelTimeout bool // errors.Is(err, syscall.ETIMEDOUT)
		message       string
	}{
		{"read deadline", readErr, true, false, false, "i/o timeout"},
		{"dial past its deadline", dialErr, false, true, false, "i/o timeout"},
		// Built the way package net reports it, as chapter 01's test gets it.
		{"the kernel gave up", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ETIMEDOUT)}, false, false, true, "connect: connection timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.err)
			assert.Equal(t, tt.deadline, errors.Is(tt.err, os.ErrDeadlineExceeded), "os.ErrDeadlineExceeded? %v", tt.err)
			assert.Equal(t, tt.contextDone, errors.Is(tt.err, context.DeadlineExceeded), "context.DeadlineExceeded? %v", tt.err)
			assert.Equal(t, tt.kernelTimeout, errors.Is(tt.err, syscall.ETIMEDOUT), "ETIMEDOUT? %v", tt.err)
			assert.ErrorContains(t, tt.err, tt.message)
			var netErr net.Error
			if assert.ErrorAs(t, tt.err, &netErr) {
				assert.True(t, netErr.Timeout(), "Timeout() is true for every kind")
			}
		})
	}
}
