package basic_test

import (
	"net"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	basic "example.com/sockets/01-basic-server"
	"example.com/sockets/01-basic-server/internal/testutil"
)

// tutorialClient does what the tutorial's client.py does: connect, print
// what one recv returns, close. The address comes from the arguments, and
// a timeout keeps it from waiting forever.
const tutorialClient = `
import socket, sys
s = socket.socket()
s.settimeout(10)
s.connect((sys.argv[1], int(sys.argv[2])))
print(s.recv(1024).decode())
s.close()
`

// TestPythonClientPrintsABlankLine runs the tutorial's client against this
// server. The tutorial's server sends the greeting without a newline, and
// print adds one; this server's greeting ends with its own, so the Python
// client prints a blank line after it.
func TestPythonClientPrintsABlankLine(t *testing.T) {
	python := testutil.NeedTool(t, "python3")
	r := testutil.StartServer(t, &basic.Server{}, basic.ErrServerClosed)
	host, port, err := net.SplitHostPort(r.Addr)
	require.NoError(t, err)

	client := testutil.Run(t, exec.Command(python, "-c", tutorialClient, host, port))
	assert.Equal(t, 0, client.Wait(), "stderr:\n%s", client.Stderr())
	assert.Equal(t, "Thank you for connecting\n\n", client.Stdout())
}
