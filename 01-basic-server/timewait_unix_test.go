//go:build unix

package basic_test

import (
	"context"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	basic "example.com/sockets/01-basic-server"
	"example.com/sockets/01-basic-server/internal/testutil"
)

// TestListenAgainDuringTimeWait serves one client (the server closes first,
// so its end of the connection is left in TIME_WAIT), stops the server and
// listens on the same port again at once. With Go's default, SO_REUSEADDR,
// that works; with the option turned off, bind fails as it would in a
// Python server that does not set it.
func TestListenAgainDuringTimeWait(t *testing.T) {
	reuseOff := func(network, address string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
		})
		return err
	}
	tests := []struct {
		name    string
		control func(network, address string, c syscall.RawConn) error
		wantErr error
	}{
		{"SO_REUSEADDR on, as Go sets it", nil, nil},
		{"SO_REUSEADDR off", reuseOff, syscall.EADDRINUSE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &basic.Server{}
			r := testutil.StartServer(t, srv, basic.ErrServerClosed)
			_, err := fetch(t, r.Addr)
			require.NoError(t, err)
			require.NoError(t, srv.Close())
			require.ErrorIs(t, r.Wait(t), basic.ErrServerClosed)

			lc := net.ListenConfig{Control: tt.control}
			ln, err := lc.Listen(context.Background(), "tcp", r.Addr)
			if tt.wantErr == nil {
				require.NoError(t, err, "listen on %s again", r.Addr)
				ln.Close()
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}
