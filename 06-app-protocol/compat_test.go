package app_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
)

// These tests run the tutorial's own Python programs, python/app_server.py
// and python/app_client.py, against the Go ones, and compare the bytes each
// side sends, as the Python programs print them (repr of bytes) and as the
// Go ones log them (app.Repr).

// pythonCommand is the command that runs the tutorial's script with args.
// It skips the test when python3 is missing (and fails under CI).
func pythonCommand(t testing.TB, script string, args ...string) *exec.Cmd {
	t.Helper()
	python := testutil.NeedTool(t, "python3")
	cmd := exec.Command(python, append([]string{filepath.Join("python", script)}, args...)...)
	// Arguments and output in UTF-8 whatever the locale.
	cmd.Env = append(os.Environ(), "PYTHONUTF8=1", "PYTHONIOENCODING=utf-8")
	return cmd
}

// startPythonServer starts python/app_server.py on a free port of
// 127.0.0.1 and returns its address. At cleanup it is stopped with Ctrl-C
// (SIGINT), as a learner stops it.
func startPythonServer(t *testing.T) (string, *testutil.Process) {
	t.Helper()
	p := testutil.Start(t, pythonCommand(t, "app_server.py", "127.0.0.1", "0"))
	port := p.WaitOutput(`Listening on \('127\.0\.0\.1', (\d+)\)`)[1]
	t.Cleanup(func() {
		p.Interrupt()
		p.Wait()
		assert.Contains(t, p.Stdout(), "Caught keyboard interrupt, exiting")
		assert.NotContains(t, p.Stdout(), "Main: Error", "the Python server failed on something")
	})
	return net.JoinHostPort("127.0.0.1", port), p
}

// runPythonClient runs python/app_client.py for ACTION VALUE against addr
// and returns what it printed. The script exits 0 whatever happens, so the
// caller checks its output.
func runPythonClient(t *testing.T, addr, action, value string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p := testutil.Run(t, pythonCommand(t, "app_client.py", host, port, action, value))
	require.Equal(t, 0, p.Wait(), "app_client.py exits 0 whatever happens")
	return p.Stdout()
}

// pyAddrPattern is how the Python programs print an address: ('127.0.0.1', 65432).
var pyAddrPattern = regexp.MustCompile(`\('127\.0\.0\.1', \d+\)`)

// countMatches returns how many matches of re text has.
func countMatches(text string, re *regexp.Regexp) int { return len(re.FindAllStringIndex(text, -1)) }

// nthMatch waits until text() has at least n+1 matches of re, and returns
// the first submatch of match n (counting from 0).
func nthMatch(t testing.TB, what string, text func() string, re *regexp.Regexp, n int) string {
	t.Helper()
	testutil.WaitFor(t, what, func() bool { return len(re.FindAllStringSubmatch(text(), -1)) > n })
	return re.FindAllStringSubmatch(text(), -1)[n][1]
}

// The lines that show a server's response bytes, Python's and Go's.
var (
	pySending = regexp.MustCompile(`(?m)^Sending (b.*) to \('127\.0\.0\.1', \d+\)$`)
	goSending = regexp.MustCompile(`(?m)^sending (b.*) to 127\.0\.0\.1:\d+$`)
)

// The Python client against the Python server and against the Go server:
// it sends the bytes the Go client sends, prints exactly the same thing
// (addresses aside), and the two servers answer it with the same bytes.
// The Go server sees each Python connection end cleanly: the Python client
// closes once it has its response, which is no error.
func TestCompatPythonClientAgainstBothServers(t *testing.T) {
	pyServer, pyProc := startPythonServer(t)
	goServer, goLogs := startAppServer(t, &app.Server{})
	goClosing := regexp.MustCompile(`(?m)^(closing connection to .*)$`)

	for _, v := range tutorialVectors {
		t.Run(v.name, func(t *testing.T) {
			// This run's lines come after those already there.
			pyBefore, goBefore := countMatches(pyProc.Stdout(), pySending), countMatches(goLogs.String(), goSending)
			closedBefore := countMatches(goLogs.String(), goClosing)
			fromPy := runPythonClient(t, pyServer, v.action, v.value)
			fromGo := runPythonClient(t, goServer.Addr, v.action, v.value)
			assert.NotContains(t, fromPy+fromGo, "Error")

			// Same transcript, whichever server.
			assert.Equal(t, pyAddrPattern.ReplaceAllString(fromPy, "ADDR"), pyAddrPattern.ReplaceAllString(fromGo, "ADDR"))
			if v.json {
				assert.Contains(t, fromGo, "\nGot result: "+v.result+"\n")
			} else {
				assert.Contains(t, fromGo, "\nGot response: "+app.Repr([]byte(v.result), 1000)+"\n")
			}

			// The Python client's request is the Go client's.
			req := appWire(t, appMustRequest(t, v.action, v.value))
			assert.Contains(t, fromGo, "\nSending "+app.Repr(req, 1000)+" to ", "the Go request bytes differ from the Python client's")

			// The two servers' responses, byte for byte.
			pyResp := nthMatch(t, "the Python server's Sending line", pyProc.Stdout, pySending, pyBefore)
			goResp := nthMatch(t, "the Go server's sending line", goLogs.String, goSending, goBefore)
			assert.Equal(t, pyResp, goResp, "response bytes (Python server, Go server)")

			// The Python client closed after its response: a clean end.
			closing := nthMatch(t, "the Go server's closing line", goLogs.String, goClosing, closedBefore)
			assert.NotContains(t, closing, ": ", "the Go server saw an error: %s", closing)
		})
	}
}

// The Go client against the Python server: the results the Python client
// prints, and the Go client reads back exactly the bytes the Python server
// says it sent. A second request on one connection fails clearly: the
// Python server answers one request per connection.
func TestCompatGoClientAgainstPythonServer(t *testing.T) {
	pyServer, pyProc := startPythonServer(t)
	client := &app.Client{}
	for _, v := range tutorialVectors {
		t.Run(v.name, func(t *testing.T) {
			before := countMatches(pyProc.Stdout(), pySending)
			conn, err := client.Dial(context.Background(), pyServer)
			require.NoError(t, err)
			defer conn.Close()
			resp, err := conn.Do(context.Background(), appMustRequest(t, v.action, v.value))
			require.NoError(t, err)
			result, isJSON, err := app.Result(resp)
			require.NoError(t, err)
			assert.Equal(t, v.result, result)
			assert.Equal(t, v.json, isJSON)

			pyResp := nthMatch(t, "the Python server's Sending line", pyProc.Stdout, pySending, before)
			assert.Equal(t, pyResp, app.Repr(appWire(t, resp), 1000), "what the Go client read, written again, is what Python sent")
		})
	}

	t.Run("second request on one connection", func(t *testing.T) {
		conn, err := client.Dial(context.Background(), pyServer)
		require.NoError(t, err)
		defer conn.Close()
		_, err = conn.Do(context.Background(), appMustRequest(t, "search", "ring"))
		require.NoError(t, err)
		_, err = conn.Do(context.Background(), appMustRequest(t, "search", "morpheus"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "closed the connection after 1 response")
	})

	// The tutorial's server never answers an empty request: b"" is
	// falsy, so it waits forever to create a response. (It spins doing
	// so, until it is stopped at cleanup.) Our client says so after its
	// Timeout; our server answers it (TestServerAnswersAnEmptyRequest).
	t.Run("empty request", func(t *testing.T) {
		conn, err := (&app.Client{Timeout: 300 * time.Millisecond}).Dial(context.Background(), pyServer)
		require.NoError(t, err)
		defer conn.Close()
		_, err = conn.Do(context.Background(), appMustRequest(t, "", ""))
		require.Error(t, err)
		assert.Equal(t, "no response from "+pyServer+" within 300ms", err.Error())
	})
}

// A request without "action" or without "value": the tutorial's server
// reads both with dict.get, so a missing one is None, and it answers as
// if None had been sent: "Error: invalid action 'None'." and "No match
// for 'None'.". The Go server rejects such a request: it answers what is
// missing, and hangs up.
func TestRequestWithoutActionOrValue(t *testing.T) {
	tests := []struct {
		name, content string
		python, goErr string // the Python server's result, the Go server's
	}{
		{"no action", `{"value": "morpheus"}`, "Error: invalid action 'None'.", `Error: bad request: no "action".`},
		{"no value", `{"action": "search"}`, "No match for 'None'.", `Error: bad request: no "value" to search for.`},
	}
	ask := func(t *testing.T, addr, content string) (string, *app.Conn) {
		t.Helper()
		conn, err := (&app.Client{Timeout: testutil.Timeout}).Dial(context.Background(), addr)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		resp, err := conn.Do(context.Background(), jsonRequest(content))
		require.NoError(t, err)
		result, isJSON, err := app.Result(resp)
		require.NoError(t, err)
		assert.True(t, isJSON)
		return result, conn
	}

	t.Run("Go server", func(t *testing.T) {
		srv, logs := startAppServer(t, &app.Server{})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				result, conn := ask(t, srv.Addr, tt.content)
				assert.Equal(t, tt.goErr, result)
				// Rejected: the connection is closed, and the log says why.
				_, err := conn.Do(context.Background(), appMustRequest(t, "search", "ring"))
				assert.ErrorContains(t, err, "closed the connection after 1 response")
				assert.Contains(t, logs.String(), ": rejected: "+strings.TrimSuffix(strings.TrimPrefix(tt.goErr, "Error: "), ".")+"\n")
			})
		}
	})

	t.Run("Python server", func(t *testing.T) {
		pyServer, _ := startPythonServer(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				result, _ := ask(t, pyServer, tt.content)
				assert.Equal(t, tt.python, result)
			})
		}
	})
}

// haveIPv6Loopback reports whether this machine has the IPv6 loopback
// address ::1 (some containers have IPv6 turned off).
func haveIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// The tutorial starts its server with the empty string as its host, for
// "all interfaces". On Python's AF_INET socket that is 0.0.0.0, every
// IPv4 address and no IPv6 one; app-server with an empty HOST listens on
// ":PORT", which Go opens as [::], every IPv6 address and, through it,
// every IPv4 one. So [::1] reaches the Go server and is refused by the
// Python one. (Both listen on every interface for the few milliseconds
// of the test.)
func TestEmptyHostListensOnIPv4AndIPv6(t *testing.T) {
	search := func(t *testing.T, addr string) error {
		t.Helper()
		conn, err := (&app.Client{Timeout: testutil.Timeout}).Dial(context.Background(), addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		resp, err := conn.Do(context.Background(), appMustRequest(t, "search", "morpheus"))
		if err != nil {
			return err
		}
		result, _, err := app.Result(resp)
		assert.Equal(t, morpheusAnswer, result)
		return err
	}
	ipv6 := haveIPv6Loopback()

	t.Run("Go server", func(t *testing.T) {
		p := testutil.Start(t, exec.Command(testutil.Build(t, "./cmd/app-server"), "", "0"))
		listening := p.WaitOutput(`listening on (\S+):(\d+)\n`)
		port := listening[2]
		if !ipv6 {
			assert.Equal(t, "0.0.0.0", listening[1], "without IPv6, all IPv4 addresses")
			t.Skip("no IPv6 loopback here: [::] cannot be shown")
		}
		assert.Equal(t, "[::]", listening[1])
		assert.NoError(t, search(t, net.JoinHostPort("127.0.0.1", port)), "over IPv4")
		assert.NoError(t, search(t, net.JoinHostPort("::1", port)), "over IPv6")
		p.Interrupt()
		assert.Equal(t, 0, p.Wait())
	})

	t.Run("Python server", func(t *testing.T) {
		p := testutil.Start(t, pythonCommand(t, "app_server.py", "", "0"))
		port := p.WaitOutput(`Listening on \('', (\d+)\)`)[1]
		assert.NoError(t, search(t, net.JoinHostPort("127.0.0.1", port)), "over IPv4")
		if !ipv6 {
			t.Skip("no IPv6 loopback here: cannot show that [::1] is refused")
		}
		err := search(t, net.JoinHostPort("::1", port))
		assert.ErrorIs(t, err, syscall.ECONNREFUSED, "over IPv6: nothing listens on [::1]")
		p.Interrupt()
		p.Wait()
	})
}
