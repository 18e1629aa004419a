package reverse

// Ending a socket call that waits: by a timeout, or by Interrupt, which
// reverse-repl calls on Ctrl-C. A command can be interrupted while it waits,
// and no longer once it prints its outcome. New in this chapter.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Interrupt ends the command that is running, if one is: a dial, accept,
// send or recv that is waiting gives up and reports "interrupted", and Run
// goes on with the next command. It reports whether there was such a
// command; once a command has begun to print its outcome, there is not. If
// not, the caller may want to end Run instead. Interrupt is safe to call
// from any goroutine, as from a signal handler.
func (r *REPL) Interrupt() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel == nil {
		return false
	}
	r.cancel()
	return true
}

// interruptible sets whether Interrupt may end the running command. A
// command is interruptible from its start, and again whenever it begins to
// wait (see bound), but not once it prints its outcome: an interrupt then
// would be lost on a command that is over, when it should end the session.
func (r *REPL) interruptible(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		r.cancel = r.cmd
	} else {
		r.cancel = nil
	}
}

// bound sets the deadline with set for an operation that is about to start:
// timeout from now, or the REPL's Timeout if timeout is zero, or none. It
// also arranges for the operation to end when ctx does (Interrupt), by
// moving the deadline to the past. Call the function it returns when the
// operation is over.
//
// The deadline is set before context.AfterFunc is registered, so that a
// ctx that is already done still wins: AfterFunc then runs after it.
func (r *REPL) bound(ctx context.Context, set func(time.Time) error, timeout time.Duration) (stop func() bool) {
	r.interruptible(true)
	if timeout == 0 {
		timeout = r.Timeout
	}
	var deadline time.Time // zero: no deadline
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	set(deadline)
	return context.AfterFunc(ctx, func() { set(time.Unix(1, 0)) })
}

// waitError explains an error from an operation that bound bounded: an
// interrupt and a timeout become plain words.
func (r *REPL) waitError(ctx context.Context, err error, what string, timeout time.Duration) error {
	if timeout == 0 {
		timeout = r.Timeout
	}
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted")
	case errors.Is(err, os.ErrDeadlineExceeded) && what == "received":
		return fmt.Errorf("nothing received within %v", timeout)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%s did not finish within %v: the peer is not reading", what, timeout)
	}
	return err
}
