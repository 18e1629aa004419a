package echo_test

import (
	"context"
	"fmt"
	"testing"

	echo "example.com/sockets/02-echo"
	"example.com/sockets/02-echo/internal/testutil"
)

// BenchmarkEcho streams 4 MiB through the server per operation, with the
// tutorial's 1 KiB read buffer and with this server's default of 32 KiB.
// Go sets TCP_NODELAY on every connection, so each small Write leaves at
// once as its own segment: a small buffer means many more system calls and
// packets for the same bytes.
//
//	go test -run '^$' -bench Echo -benchtime 20x
func BenchmarkEcho(b *testing.B) {
	msg := randomBytes(4 << 20)
	for _, size := range []int{1 << 10, 32 << 10} {
		b.Run(fmt.Sprintf("buffer=%dKiB", size>>10), func(b *testing.B) {
			r := testutil.StartServer(b, &echo.Server{BufferSize: size}, echo.ErrServerClosed)
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
				_, err := echo.Echo(ctx, r.Addr, msg)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
