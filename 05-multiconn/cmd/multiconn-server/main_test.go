package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The server waits for its connections to close before its summary, but
// only so long.
func TestFinishes(t *testing.T) {
	assert.True(t, finishes(func() {}, time.Minute), "a function that returns at once")

	release := make(chan struct{})
	returned := make(chan struct{})
	assert.False(t, finishes(func() {
		defer close(returned)
		<-release
	}, 10*time.Millisecond), "a function that does not return in time")
	close(release) // and let it end, so that no goroutine is left behind
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the function did not return once released")
	}
}
