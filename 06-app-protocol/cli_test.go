package app_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

// These tests build cmd/app-server and cmd/app-client and run them as real
// processes, the way a learner does: against each other, against an
// app.Server started in the test, and against test listeners that
// misbehave on purpose.

// cliServer starts app-server on a free port (-addr 127.0.0.1:0 and then
// args) and returns the process and the address it listens on, once it
// has said so.
func cliServer(t *testing.T, args ...string) (*testutil.Process, string) {
	t.Helper()
	bin := testutil.Build(t, "./cmd/app-server")
	p := testutil.Start(t, exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
	return p, p.WaitOutput(`listening on (\S+)\n`)[1]
}

// cliClient runs app-client with args until it exits (at most
// testutil.Timeout).
func cliClient(t *testing.T, args ...string) *testutil.Process {
	t.Helper()
	return testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/app-client"), args...))
}

// cliLoggedServer starts an in-process app.Server that logs to the
// returned buffer, for tests whose subject is the client.
func cliLoggedServer(t *testing.T, srv *app.Server) (addr string, logged *testutil.Buffer) {
	t.Helper()
	logged = new(testutil.Buffer)
	srv.Log = log.New(logged, "", 0)
	return testutil.StartServer(t, srv, app.ErrServerClosed).Addr, logged
}

// cliSilentServer listens on a free port and, on every connection it
// accepts, reads one request, hands it over on the returned channel, and
// then never answers: it reads and drops whatever else comes until the
// client hangs up. Everything it starts is stopped at cleanup.
func cliSilentServer(t *testing.T) (addr string, requests <-chan message.Message) {
	t.Helper()
	ln := testutil.Listen(t)
	got := make(chan message.Message, 8)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener is closed: cleanup
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				c.SetDeadline(time.Now().Add(testutil.Timeout))
				if req, err := message.NewDecoder(c).Decode(); err == nil {
					select {
					case got <- req:
					default: // nobody is counting this many requests
					}
				}
				io.Copy(io.Discard, c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), got
}

// cliSkipUnlessLittle skips a test that compares bytes holding the
// header's "byteorder": "little".
func cliSkipUnlessLittle(t *testing.T) {
	t.Helper()
	if message.NativeByteOrder() != "little" {
		t.Skip(`compares bytes that say "byteorder": "little"; this machine is big-endian`)
	}
}

// The tutorial's session, both commands as processes: the client's five
// lines, byte for byte as app-client.py prints them, the server's lines
// for that connection, and Ctrl-C stopping the server with a summary.
func TestAppCommandsSearchAndCtrlC(t *testing.T) {
	cliSkipUnlessLittle(t)
	server, addr := cliServer(t)

	client := cliClient(t, "-addr", addr, "search", "morpheus")
	assert.Equal(t, 0, client.Wait())
	wantClient := "starting connection to " + addr + "\n" +
		`sending b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}{"action": "search", "value": "morpheus"}' to ` + addr + "\n" +
		`received response {"result": "Follow the white rabbit. 🐰"} from ` + addr + "\n" +
		"got result: Follow the white rabbit. 🐰\n" +
		"closing connection to " + addr + "\n"
	if diff := cmp.Diff(wantClient, client.Stdout()); diff != "" {
		t.Errorf("client stdout (-want +got):\n%s", diff)
	}
	assert.Empty(t, client.Stderr())

	from := server.WaitOutput(`accepted connection from (\S+)\n`)[1]
	server.WaitOutput("closing connection to " + regexp.QuoteMeta(from) + "\n")
	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	wantServer := "listening on " + addr + "\n" +
		"accepted connection from " + from + "\n" +
		"received request `{\"action\": \"search\", \"value\": \"morpheus\"}` from " + from + "\n" +
		`sending b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 43}{"result": "Follow the white rabbit. \xf0\x9f\x90\xb0"}' to ` + from + "\n" +
		"closing connection to " + from + "\n" +
		"server stopped: 1 request answered, 0 clients rejected, 0 refused\n"
	if diff := cmp.Diff(wantServer, server.Stdout()); diff != "" {
		t.Errorf("server stdout (-want +got):\n%s", diff)
	}
	assert.Empty(t, server.Stderr())
}

// Ctrl-C with 200 clients connected: the server hangs up on each, logs
// it, and only then prints its summary, the last line, with no closing
// line lost.
func TestServerCommandSummaryComesLast(t *testing.T) {
	const clients = 200
	server, addr := cliServer(t, "-q")
	locals := make(map[string]bool, clients)
	for range clients {
		c := dialApp(t, addr)
		// A round trip: once it is back, the server is serving c.
		assert.Equal(t, ringAnswer, c.ask(t, "search", "ring"))
		locals[c.LocalAddr().String()] = true
	}
	server.Interrupt()
	require.Equal(t, 0, server.Wait())

	lines := strings.Split(strings.TrimSuffix(server.Stdout(), "\n"), "\n")
	last := lines[len(lines)-1]
	assert.Equal(t, fmt.Sprintf("server stopped: %d requests answered, 0 clients rejected, 0 refused", clients), last,
		"the summary is the last line")
	closed := make(map[string]int)
	for _, line := range lines[:len(lines)-1] {
		if a, ok := strings.CutPrefix(line, "closing connection to "); ok {
			a, why, _ := strings.Cut(a, ": ")
			assert.Equal(t, "server closing", why, line)
			closed[a]++
		}
	}
	assert.Equal(t, clients, len(closed), "clients with a closing line before the summary")
	for a, n := range closed {
		assert.True(t, locals[a], "closing line for %s, which is not one of the clients", a)
		assert.Equal(t, 1, n, "closing lines for %s", a)
	}
	assert.Empty(t, server.Stderr())
}

// The tutorial's positional forms: app-server HOST PORT and
// app-client HOST PORT ACTION VALUE.
func TestAppCommandsHostPort(t *testing.T) {
	ln := testutil.Listen(t)
	host, port, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	require.NoError(t, ln.Close()) // free the port for the server
	addr := net.JoinHostPort(host, port)

	server := testutil.Start(t, exec.Command(testutil.Build(t, "./cmd/app-server"), host, port))
	server.WaitOutput("listening on " + regexp.QuoteMeta(addr) + "\n")

	client := cliClient(t, host, port, "search", "ring")
	assert.Equal(t, 0, client.Wait())
	out := client.Stdout()
	assert.True(t, strings.HasPrefix(out, "starting connection to "+addr+"\n"), "stdout:\n%s", out)
	assert.Contains(t, out, "\ngot result: In the caves beneath the Misty Mountains. 💍\n")
	assert.Empty(t, client.Stderr())

	server.WaitOutput("received request `\\{\"action\": \"search\", \"value\": \"ring\"\\}` from ")
	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	assert.True(t, strings.HasSuffix(server.Stdout(), "server stopped: 1 request answered, 0 clients rejected, 0 refused\n"), "stdout:\n%s", server.Stdout())
}

// Any action but search is sent as binary content, ACTION+VALUE, and the
// answer is shown as Python shows bytes.
func TestAppClientCommandBinary(t *testing.T) {
	addr, logged := cliLoggedServer(t, &app.Server{})
	client := cliClient(t, "-addr", addr, "binary", "hello")
	assert.Equal(t, 0, client.Wait())
	out := client.Stdout()
	assert.Contains(t, out, "\nreceived binary/custom-server-binary-type response from "+addr+"\n")
	assert.Contains(t, out, "\ngot response: b'First 10 bytes of request: binaryhell'\n")
	assert.Empty(t, client.Stderr())
	testutil.WaitFor(t, "the server's closing line", func() bool { return strings.Contains(logged.String(), "closing connection") })
	assert.Contains(t, logged.String(), "received `binary/custom-client-binary-type` request from ")
}

// Several ACTION VALUE pairs go one after the other on one connection:
// the server accepts once and answers three requests.
func TestAppClientCommandKeepAlive(t *testing.T) {
	addr, logged := cliLoggedServer(t, &app.Server{})
	client := cliClient(t, "-addr", addr, "search", "morpheus", "search", "ring", "binary", "x")
	assert.Equal(t, 0, client.Wait())
	assert.Empty(t, client.Stderr())

	out := client.Stdout()
	assert.Equal(t, 1, strings.Count(out, "starting connection to "), "stdout:\n%s", out)
	assert.Equal(t, 1, strings.Count(out, "closing connection to "), "stdout:\n%s", out)
	var got []string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "got ") {
			got = append(got, line)
		}
	}
	want := []string{
		"got result: Follow the white rabbit. 🐰\n",
		"got result: In the caves beneath the Misty Mountains. 💍\n",
		"got response: b'First 10 bytes of request: binaryx'\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	testutil.WaitFor(t, "the server's closing line", func() bool { return strings.Contains(logged.String(), "closing connection") })
	lines := logged.String()
	assert.Equal(t, 1, strings.Count(lines, "accepted connection from "), "log:\n%s", lines)
	assert.Len(t, regexp.MustCompile(`(?m)^received `).FindAllString(lines, -1), 3, "log:\n%s", lines)
	assert.Len(t, regexp.MustCompile(`(?m)^sending `).FindAllString(lines, -1), 3, "log:\n%s", lines)
}

// A server that rejects the request (here its content is over
// -max-content) answers with an error result: the client prints it like
// any result, says on stderr that it was an error, and exits 1.
func TestAppCommandsErrorResult(t *testing.T) {
	server, addr := cliServer(t, "-max-content", "10")
	client := cliClient(t, "-addr", addr, "search", "morpheus") // content-length 41
	assert.Equal(t, 1, client.Wait())
	assert.Contains(t, client.Stdout(), "\ngot result: Error: message too large: content-length 41 is more than the limit of 10 bytes.\n")
	assert.Equal(t, "app-client: the server answered with an error\n", client.Stderr())

	server.WaitOutput(`closing connection to \S+: rejected: message too large`)
	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	assert.True(t, strings.HasSuffix(server.Stdout(), "server stopped: 0 requests answered, 1 client rejected, 0 refused\n"), "stdout:\n%s", server.Stdout())
	assert.Empty(t, server.Stderr())
}

// cliAnsweringServer listens on a free port and, on the one connection it
// accepts, reads one request and writes answer, whatever it holds, then
// waits for the client to hang up. It is stopped at cleanup.
func cliAnsweringServer(t *testing.T, answer []byte) (addr string) {
	t.Helper()
	ln := testutil.Listen(t)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		c, err := ln.Accept()
		if err != nil {
			return // the test ended without dialling
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(testutil.Timeout))
		if _, err := message.NewDecoder(c).Decode(); !assert.NoError(t, err, "the server reads the request") {
			return
		}
		_, err = c.Write(answer)
		assert.NoError(t, err)
		io.Copy(io.Discard, c)
	}()
	t.Cleanup(func() {
		ln.Close()
		testutil.Receive(t, finished, "the answering server to finish")
	})
	return ln.Addr().String()
}

// A server decides what the client prints: results, content types,
// content. Whatever it sends, the client's lines are the server's text
// shown as app.Show and app.Repr show it, never as it is: escape sequences
// that clear the screen or set the terminal's title, a CR/LF that would
// start a forged line, a megabyte-sized result. Every line the client
// prints is one line, short, with no control character.
func TestAppClientCommandShowsWhatTheServerSendsEscaped(t *testing.T) {
	big := strings.Repeat("A", 100_000)
	escapes := "\x1b[2J\x1b[H\x1b]0;pwned\x07"
	forged := "red\r\nclosing connection to 10.9.8.7:6543"
	jsonAnswer := func(content string) []byte {
		return appWire(t, message.Message{ByteOrder: "little", ContentType: message.TypeJSON, ContentEncoding: message.EncodingUTF8, Content: []byte(content)})
	}
	result := func(r string) []byte {
		content, err := message.AppendObject(nil, "result", r)
		require.NoError(t, err)
		return jsonAnswer(string(content))
	}
	tests := []struct {
		name   string
		answer []byte
		code   int
		want   []string // lines of stdout or stderr, in full
	}{
		{
			name:   "escape sequences in a result",
			answer: result(escapes + "cleared"),
			want: []string{
				`received response {"result": "\u001b[2J\u001b[H\u001b]0;pwned\u0007cleared"} from ADDR`,
				`got result: "\x1b[2J\x1b[H\x1b]0;pwned\acleared"`,
			},
		},
		{
			name:   "a forged line in a result",
			answer: result(forged),
			want:   []string{`got result: "red\r\nclosing connection to 10.9.8.7:6543"`},
		},
		{
			name:   "an error result with escape sequences",
			answer: result("Error: " + escapes),
			code:   1,
			want: []string{
				`got result: "Error: \x1b[2J\x1b[H\x1b]0;pwned\a"`,
				"app-client: the server answered with an error",
			},
		},
		{
			name:   "a result of 100 KB",
			answer: result(big),
			want: []string{
				`received response {"result": "` + big[:188] + `... (100014 bytes) from ADDR`,
				"got result: " + big[:200] + "... (100000 bytes)",
			},
		},
		{
			name:   "raw control bytes in JSON content",
			answer: jsonAnswer(`{"result": "` + escapes + `"}`),
			code:   1,
			want:   []string{`received response "{\"result\": \"\x1b[2J\x1b[H\x1b]0;pwned\a\"}" from ADDR`},
		},
		{
			name:   "escape sequences in a content type, and 100 KB of binary content",
			answer: appWire(t, message.Message{ByteOrder: "little", ContentType: "binary/" + escapes, ContentEncoding: message.EncodingBinary, Content: []byte(big)}),
			want: []string{
				`received "binary/\x1b[2J\x1b[H\x1b]0;pwned\a" response from ADDR`,
				"got response: b'" + big[:200] + "'... (100000 bytes)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := cliAnsweringServer(t, tt.answer)
			client := cliClient(t, "-addr", addr, "search", "x")
			assert.Equal(t, tt.code, client.Wait(), "stderr:\n%s", client.Stderr())
			out := strings.ReplaceAll(client.Stdout()+client.Stderr(), addr, "ADDR")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, want := range tt.want {
				assert.Contains(t, lines, want)
			}
			for _, line := range lines {
				assert.LessOrEqual(t, len(line), 300, "a line the client prints is short: %.80q", line)
				assert.False(t, strings.ContainsFunc(line, unicode.IsControl), "a line the client prints holds no control character: %q", line)
			}
		})
	}
}

func TestAppClientCommandConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	client := cliClient(t, "-addr", addr, "search", "x")
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t,
		"app-client: dial tcp "+addr+": connect: connection refused\n"+
			"is the server running? Start it in the chapter's folder with: go run ./cmd/app-server -addr "+addr+"\n",
		client.Stderr())
	assert.Equal(t, "starting connection to "+addr+"\n", client.Stdout())
}

// ENETUNREACH without a network: Linux refuses a TCP connection to a
// multicast address at once with "network is unreachable", the error a
// connect gets when an ICMP "network unreachable" comes back, or when
// there is no route. The client says so, and how to look further.
func TestAppClientCommandNetworkUnreachable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux refusing a TCP connect to a multicast address with ENETUNREACH")
	}
	client := cliClient(t, "224.0.0.1", "65432", "search", "morpheus")
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t,
		"app-client: dial tcp 224.0.0.1:65432: connect: network is unreachable\n"+
			"there is no way from here to 224.0.0.1: is the address right? See whether it answers at all with: ping 224.0.0.1\n",
		client.Stderr())
}

func TestAppServerCommandAddressInUse(t *testing.T) {
	taken := testutil.Listen(t).Addr().String()
	server := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/app-server"), "-addr", taken))
	assert.Equal(t, 1, server.Wait())
	assert.Contains(t, server.Stderr(), "app-server: listen tcp "+taken+": ")
	assert.Contains(t, server.Stderr(), "address already in use\n")
	assert.Contains(t, server.Stderr(), "\nis another server already running? Stop it, or pick another port with -addr\n")
	assert.Empty(t, server.Stdout())
}

func TestAppServerCommandFlags(t *testing.T) {
	const (
		wantArgs     = "app-server: want HOST PORT, or no arguments; got "
		wantPositive = "app-server: -max-content, -max-conns, -max-memory and the timeouts must be positive\n"
	)
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"-h"}, 0, "usage: app-server [-q] [-max-content bytes] [-max-conns n] [-max-memory bytes] [-idle d] [-read-timeout d] [-write-timeout d] [-never-read] [-addr host:port | HOST PORT]\n"},
		{[]string{"-bogus"}, 2, "flag provided but not defined: -bogus\n"},
		{[]string{"-idle"}, 2, "flag needs an argument: -idle\n"},
		{[]string{"-max-content", "ten"}, 2, `invalid value "ten" for flag -max-content`},
		{[]string{"127.0.0.1"}, 2, wantArgs + `["127.0.0.1"]` + "\n"},
		{[]string{"127.0.0.1", "65432", "extra"}, 2, wantArgs + `["127.0.0.1" "65432" "extra"]` + "\n"},
		{[]string{"-max-content", "0"}, 2, wantPositive},
		{[]string{"-max-content", "-5"}, 2, wantPositive},
		{[]string{"-max-conns", "0"}, 2, wantPositive},
		{[]string{"-max-memory", "-1"}, 2, wantPositive},
		{[]string{"-idle", "0s"}, 2, wantPositive},
		{[]string{"-read-timeout", "0s"}, 2, wantPositive},
		{[]string{"-write-timeout", "-1s"}, 2, wantPositive},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			p := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/app-server"), tt.args...))
			assert.Equal(t, tt.wantCode, p.Wait())
			assert.Contains(t, p.Stderr(), tt.wantErr)
			if tt.wantCode == 0 {
				assert.True(t, strings.HasPrefix(p.Stderr(), "usage: app-server "), "stderr:\n%s", p.Stderr())
			} else {
				assert.Contains(t, p.Stderr(), "usage: app-server ", "a usage error shows the usage")
			}
			assert.Empty(t, p.Stdout())
		})
	}
}

func TestAppClientCommandFlags(t *testing.T) {
	const wantArgs = "app-client: want HOST PORT ACTION VALUE, or ACTION VALUE pairs; got "
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"-h", []string{"-h"}, 0, "usage: app-client [-timeout d] [-flood] [-addr host:port | HOST PORT] ACTION VALUE [ACTION VALUE]...\n"},
		{"unknown flag", []string{"-bogus", "search", "x"}, 2, "flag provided but not defined: -bogus\n"},
		{"bad duration", []string{"-timeout", "soon", "search", "x"}, 2, `invalid value "soon" for flag -timeout`},
		{"no arguments", nil, 2, wantArgs + "[]\n"},
		{"one argument", []string{"search"}, 2, wantArgs + `["search"]` + "\n"},
		{"three arguments", []string{"search", "morpheus", "search"}, 2, wantArgs + `["search" "morpheus" "search"]` + "\n"},
		{"HOST PORT ACTION", []string{"127.0.0.1", "65432", "search"}, 2, wantArgs + `["127.0.0.1" "65432" "search"]` + "\n"},
		{"-timeout 0", []string{"-timeout", "0s", "search", "x"}, 2, "app-client: -timeout must be positive\n"},
		// -addr, or the first pair would be taken for HOST PORT.
		{"-flood with two pairs", []string{"-flood", "-addr", "127.0.0.1:65432", "search", "x", "search", "y"}, 2, "app-client: -flood sends one request, over and over: give one ACTION VALUE\n"},
		{"invalid UTF-8 search", []string{"search", "\xff"}, 2, `app-client: "\xff" is not valid UTF-8` + "\n"},
		{"invalid UTF-8 binary", []string{"binary", "\xff"}, 2, `app-client: "binary\xff" is not valid UTF-8` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := cliClient(t, tt.args...)
			assert.Equal(t, tt.wantCode, p.Wait())
			assert.Contains(t, p.Stderr(), tt.wantErr)
			if tt.wantCode == 0 {
				assert.True(t, strings.HasPrefix(p.Stderr(), "usage: app-client "), "stderr:\n%s", p.Stderr())
			} else {
				assert.Contains(t, p.Stderr(), "usage: app-client ", "a usage error shows the usage")
			}
			assert.Empty(t, p.Stdout(), "nothing is dialed")
		})
	}
}

// With four arguments or more and no -addr, the first two are HOST PORT,
// as in the tutorial. "search morpheus search ring" has no port where the
// port should be: rather than look up a host named "search", the client
// says what it expected and how to send several requests to the default
// address. It exits before dialling anything.
func TestAppClientCommandPairsNeedHostPortOrAddr(t *testing.T) {
	client := cliClient(t, "search", "morpheus", "search", "ring")
	assert.Equal(t, 2, client.Wait())
	assert.Empty(t, client.Stdout())
	assert.Contains(t, client.Stderr(), `app-client: with four arguments or more, the first two are HOST PORT, and PORT "morpheus" is not a port number; to send several requests to the default address, give -addr`)
}

// A server that takes the request and never answers: the client gives up
// after -timeout and says so.
func TestAppClientCommandTimeout(t *testing.T) {
	addr, requests := cliSilentServer(t)
	client := cliClient(t, "-timeout", "300ms", "-addr", addr, "search", "x")
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t, "app-client: no response from "+addr+" within 300ms\n", client.Stderr())
	req := testutil.Receive(t, requests, "the client's request")
	assert.Equal(t, `{"action": "search", "value": "x"}`, string(req.Content))
}

// The tutorial's never-reading server and flooding client: the client's
// writes fill the kernel's buffers, then one waits -timeout, and the
// client says how much the kernel took. Ctrl-C still stops the server,
// which is holding that connection.
func TestAppCommandsNeverRead(t *testing.T) {
	server := testutil.Start(t, exec.Command(testutil.Build(t, "./cmd/app-server"), "-never-read", "-addr", "127.0.0.1:0"))
	addr := server.WaitOutput(`listening on (\S+) \(and never reading\)\n`)[1]

	client := cliClient(t, "-flood", "-timeout", "500ms", "-addr", addr, "binary", "test")
	assert.Equal(t, 1, client.Wait())
	assert.Contains(t, client.Stdout(), "sending the request over and over, and reading nothing\n")
	m := regexp.MustCompile(`^app-client: the server is not reading: a write waited 500ms, after (\d+) bytes\n$`).FindStringSubmatch(client.Stderr())
	if assert.NotNil(t, m, "stderr:\n%s", client.Stderr()) {
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		assert.Positive(t, n, "the kernel's buffers took some bytes before a write waited")
	}

	server.WaitOutput(`accepted connection from \S+\n`)
	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	assert.True(t, strings.HasSuffix(server.Stdout(), "server stopped: 0 requests answered, 0 clients rejected, 0 refused\n"), "stdout:\n%s", server.Stdout())
	assert.NotContains(t, server.Stdout(), "received", "a never-reading server reads no request")
	assert.Empty(t, server.Stderr())
}

// Ctrl-C while the client waits for a response stops it at once, with the
// shell's code for "ended by SIGINT", long before its 10s timeout.
func TestAppClientCommandCtrlC(t *testing.T) {
	addr, requests := cliSilentServer(t)
	client := testutil.Start(t, exec.Command(testutil.Build(t, "./cmd/app-client"), "-addr", addr, "search", "x"))
	testutil.Receive(t, requests, "the client's request") // it is now waiting for the response
	client.Interrupt()
	assert.Equal(t, 130, client.Wait())
	assert.Empty(t, client.Stderr())
	assert.NotContains(t, client.Stdout(), "got ")
}
