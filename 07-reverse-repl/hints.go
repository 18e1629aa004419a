package reverse

// The hint the REPL prints after an error a learner meets here: a refused
// dial, an address in use, a broken pipe, a reset. New in this chapter.

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
)

func hintFor(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		addr := DefaultAddr
		var de *dialError
		if errors.As(err, &de) {
			addr = de.addr
		}
		return refusedHint(addr)
	case errors.Is(err, syscall.EADDRINUSE):
		return "another socket is listening there already: pick another port"
	case errors.Is(err, syscall.EPIPE):
		return "this side can no longer send: it was shut down, or the peer closed the connection and said so with a reset"
	case errors.Is(err, syscall.ECONNRESET):
		return "the peer's end of the connection is gone; it answered with a reset (RST)"
	}
	return ""
}

// refusedHint says how to start a server at addr, where a dial was
// refused: from the chapter's folder (where ./cmd/... is), with -addr only
// when addr is not the server's default, quoted for the shell when it needs
// to be. Port 0 is not an address a client can reach, so it says that
// instead.
func refusedHint(addr string) string {
	const hint = "nothing is listening there: is the server running? "
	if _, port, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(port); err == nil && n == 0 {
			return hint + "port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
		}
	}
	start := hint + "Start it in the chapter's folder with: go run ./cmd/reverse-server"
	if addr == DefaultAddr {
		return start
	}
	return start + " -addr " + shellQuote(addr)
}

// shellQuote returns s as a shell word: as it is when it holds only
// letters, digits and ".:-_", else in single quotes, so that the brackets
// of "[::1]:7342" are not a glob in zsh.
func shellQuote(s string) string {
	plain := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".:-_", r))
	})
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dialError is a failed dial, with the address as the command gave it
// (not as the resolver turned it), for the hint.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }
