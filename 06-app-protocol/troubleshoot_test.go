package app_test

// The README's "Troubleshooting on the wire": one exchange captured with
// tcpdump, and ping on the loopback. Both run real tools that need a
// privilege (capturing packets, opening an ICMP socket): without the tool
// or the privilege the test is skipped, saying which, except under CI
// (which runs as root), where it fails.

import (
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

// skipForPrivilege skips t for want of a privilege, or fails it under CI,
// which runs as root and must check everything.
func skipForPrivilege(t *testing.T, what, output string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s, and CI is set: run CI as root\n%s", what, output)
	}
	t.Skipf("%s:\n%s", what, output)
}

// notPermitted reports whether a tool's output says that it lacked a
// privilege: what tcpdump and ping print when they may not open their
// socket.
func notPermitted(output string) bool {
	return strings.Contains(output, "Operation not permitted") || strings.Contains(output, "permission")
}

// packet is one line of tcpdump -nn -t: who sent it, its TCP flags as
// tcpdump writes them (S for SYN, F for FIN, P for PSH, R for RST, . for
// ACK) and how many bytes of data it carries.
type packet struct {
	fromPort, toPort string
	flags            string
	length           int
}

// tcpdumpLine matches a TCP packet over IPv4 as tcpdump -nn -t prints it:
//
//	IP 127.0.0.1.41214 > 127.0.0.1.47123: Flags [P.], seq 1:147, ack 1, win 64, options [...], length 146
var tcpdumpLine = regexp.MustCompile(`(?m)^IP [\d.]+\.(\d+) > [\d.]+\.(\d+): Flags \[([^\]]*)\].*, length (\d+)`)

func parsePackets(output string) []packet {
	var pkts []packet
	for _, m := range tcpdumpLine.FindAllStringSubmatch(output, -1) {
		n, _ := strconv.Atoi(m[4])
		pkts = append(pkts, packet{fromPort: m[1], toPort: m[2], flags: m[3], length: n})
	}
	return pkts
}

// One request and its response, as tcpdump sees them on the loopback: the
// handshake (SYN, SYN-ACK, ACK), the request in one segment of 146 bytes
// and the response in one of 148, the tutorial's sizes, and then the
// FINs, the client's first: the Go server waits for another request, so
// it is the client, done, that closes first. (The tutorial's server
// closes as soon as it has answered, so in its capture the server's FIN
// comes first.)
func TestCaptureOneExchange(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("captures on lo, Linux's name for the loopback interface")
	}
	tcpdump := testutil.NeedTool(t, "tcpdump")
	srv, _ := startAppServer(t, &app.Server{})
	_, serverPort, err := net.SplitHostPort(srv.Addr)
	require.NoError(t, err)

	// -nn: numbers, not names; -t: no timestamps; -l: a line at a time;
	// --immediate-mode: each packet as it comes, not a buffer at a time.
	var out testutil.Buffer
	var exited atomic.Bool
	cmd := exec.Command(tcpdump, "-nn", "-t", "-l", "--immediate-mode", "-i", "lo", "tcp port "+serverPort)
	capture := testutil.StartCombined(t, "tcpdump", cmd, &out, func(*os.ProcessState) { exited.Store(true) })
	// tcpdump says "listening on lo" once it captures, on standard error.
	testutil.WaitFor(t, "tcpdump to listen on lo", func() bool {
		return strings.Contains(out.String(), "listening on lo") || exited.Load()
	})
	if !strings.Contains(out.String(), "listening on lo") {
		if notPermitted(out.String()) {
			skipForPrivilege(t, "capturing packets needs root or CAP_NET_RAW", out.String())
		}
		t.Fatalf("tcpdump did not start:\n%s", out.String())
	}

	req := appMustRequest(t, "search", "morpheus")
	conn, err := (&app.Client{Timeout: testutil.Timeout}).Dial(context.Background(), srv.Addr)
	require.NoError(t, err)
	resp, err := conn.Do(context.Background(), req)
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	// Both FINs, and the ACK of the second one, which is the last packet.
	capture.WaitOutput(`(?s)Flags \[F\.\].*Flags \[F\.\][^\n]*\n[^\n]*Flags \[\.\][^\n]*\n`)
	capture.Interrupt()
	assert.Equal(t, 0, capture.Wait())
	pkts := parsePackets(out.String())
	require.GreaterOrEqual(t, len(pkts), 7, "tcpdump printed:\n%s", out.String())
	clientPort := pkts[0].fromPort
	fromClient := func(p packet) bool { return p.fromPort == clientPort && p.toPort == serverPort }
	fromServer := func(p packet) bool { return p.fromPort == serverPort && p.toPort == clientPort }

	// The handshake.
	assert.True(t, fromClient(pkts[0]) && pkts[0].flags == "S", "first packet: the client's SYN, got %+v", pkts[0])
	assert.True(t, fromServer(pkts[1]) && pkts[1].flags == "S.", "second: the server's SYN-ACK, got %+v", pkts[1])
	assert.True(t, fromClient(pkts[2]) && pkts[2].flags == "." && pkts[2].length == 0, "third: the client's ACK, got %+v", pkts[2])

	// The data: one segment each way, as long as the message.
	var data []packet
	firstFIN := -1
	for i, p := range pkts {
		assert.True(t, fromClient(p) || fromServer(p), "a packet of another connection: %+v", p)
		assert.NotContains(t, p.flags, "R", "a reset: %+v", p)
		if p.length > 0 {
			data = append(data, p)
		}
		if strings.Contains(p.flags, "F") && firstFIN < 0 {
			firstFIN = i
		}
	}
	reqLen, respLen := len(appWire(t, req)), len(appWire(t, resp))
	if message.NativeByteOrder() == "little" {
		assert.Equal(t, 2+103+41, reqLen, "the request: length, header, content")
		assert.Equal(t, 146, reqLen)
		assert.Equal(t, 148, respLen)
	}
	if assert.Len(t, data, 2, "tcpdump printed:\n%s", out.String()) {
		assert.True(t, fromClient(data[0]) && data[0].length == reqLen, "the request, from the client: got %+v, want %d bytes", data[0], reqLen)
		assert.True(t, fromServer(data[1]) && data[1].length == respLen, "the response, from the server: got %+v, want %d bytes", data[1], respLen)
	}

	// The client sends the first FIN, the server answers with its own.
	require.GreaterOrEqual(t, firstFIN, 0, "no FIN:\n%s", out.String())
	assert.True(t, fromClient(pkts[firstFIN]), "the first FIN is the client's, got %+v", pkts[firstFIN])
	serverFIN := false
	for _, p := range pkts[firstFIN+1:] {
		serverFIN = serverFIN || (fromServer(p) && strings.Contains(p.flags, "F"))
	}
	assert.True(t, serverFIN, "the server's FIN after the client's:\n%s", out.String())
}

// pingStats matches the two statistics lines of ping, as iputils (Linux)
// and the BSDs (macOS) print them:
//
//	3 packets transmitted, 3 received, 0% packet loss, time 2003ms
//	rtt min/avg/max/mdev = 0.044/0.225/0.584/0.253 ms
var pingStats = regexp.MustCompile(`(?m)^(\d+) packets transmitted, (\d+) (?:packets )?received, ([\d.]+)% packet loss.*\n(?:rtt|round-trip) min/avg/max/(?:mdev|stddev) = ([\d.]+)/([\d.]+)/([\d.]+)/[\d.]+ ms$`)

// ping -c 3 127.0.0.1, as the README shows it: three echo requests, three
// replies, and the statistics that sum them up: none lost, and the round
// trip's shortest, average and longest time, in that order.
func TestPingLoopback(t *testing.T) {
	ping := testutil.NeedTool(t, "ping")
	p := testutil.Run(t, exec.Command(ping, "-c", "3", "127.0.0.1"))
	output := p.Stdout() + p.Stderr()
	if p.Wait() != 0 && notPermitted(output) {
		skipForPrivilege(t, "ping needs an ICMP socket: root, CAP_NET_RAW, or a group in net.ipv4.ping_group_range", output)
	}
	assert.Equal(t, 3, strings.Count(p.Stdout(), " bytes from 127.0.0.1: icmp_seq="), "three replies:\n%s", output)
	m := pingStats.FindStringSubmatch(p.Stdout())
	require.NotNil(t, m, "no statistics in:\n%s", output)
	assert.Equal(t, []string{"3", "3"}, m[1:3], "transmitted, received")
	loss, err := strconv.ParseFloat(m[3], 64)
	require.NoError(t, err)
	assert.Zero(t, loss, "packet loss, in percent")
	rtt := make([]float64, 3)
	for i, s := range m[4:7] {
		var err error
		rtt[i], err = strconv.ParseFloat(s, 64)
		require.NoError(t, err)
	}
	assert.True(t, 0 <= rtt[0] && rtt[0] <= rtt[1] && rtt[1] <= rtt[2], "min <= avg <= max: %v", rtt)
}
