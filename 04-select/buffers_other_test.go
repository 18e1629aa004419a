//go:build !unix

package chat_test

import (
	"net"
	"testing"
)

// smallBuffers skips t: the tests that need small kernel buffers are
// written for unix systems only.
func smallBuffers(t *testing.T, ln net.Listener, size int) {
	t.Skip("small kernel buffers: written for unix systems only")
}

// dialSmall skips t, as smallBuffers does.
func dialSmall(t *testing.T, addr string, size int) *net.TCPConn {
	t.Skip("small kernel buffers: written for unix systems only")
	return nil
}
