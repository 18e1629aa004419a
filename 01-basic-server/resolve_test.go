package basic_test

// Names and address families: what "localhost" turns into, and what Go
// does with a name that has more than one address.

import (
	"net"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLocalhostResolves looks "localhost" up, as the tutorial's
// socket.getaddrinfo does. The answer depends on the machine (/etc/hosts,
// then DNS): 127.0.0.1, ::1 or both, in an order nobody promises; run the
// test with -v to see yours. Whatever it is, a server or client given the
// name uses one of those addresses, and which one is up to Go.
func TestLocalhostResolves(t *testing.T) {
	addrs, err := net.LookupHost("localhost")
	require.NoError(t, err)
	t.Logf("localhost is %v here", addrs)
	require.True(t, slices.ContainsFunc(addrs, isLoopback), "localhost has no loopback address here: %v", addrs)
	hasIPv4 := slices.ContainsFunc(addrs, isIPv4)
	hasIPv6 := slices.ContainsFunc(addrs, func(a string) bool { return !isIPv4(a) })

	// ResolveTCPAddr keeps one address and the port. For "tcp" it takes
	// an IPv4 address if the name has one; "tcp4" and "tcp6" ask for one
	// family and fail if the name has none of it.
	tests := []struct {
		network string
		found   bool // the name has an address of the family asked for
		want4   bool // the address given is IPv4
	}{
		{"tcp", true, hasIPv4},
		{"tcp4", hasIPv4, true},
		{"tcp6", hasIPv6, false},
	}
	for _, tt := range tests {
		t.Run(tt.network, func(t *testing.T) {
			tcpAddr, err := net.ResolveTCPAddr(tt.network, "localhost:5000")
			if !tt.found {
				assert.Error(t, err, "localhost has no address for %s here, yet got %v", tt.network, tcpAddr)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, addrs, tcpAddr.IP.String(), "one of LookupHost's answers")
			assert.Equal(t, tt.want4, tcpAddr.IP.To4() != nil, "IPv4? %v", tcpAddr)
			assert.Equal(t, 5000, tcpAddr.Port)
		})
	}

	// A listener given the name listens on one of its addresses only: a
	// client that dials another gets "connection refused".
	ln, err := net.Listen("tcp", "localhost:0")
	require.NoError(t, err)
	defer ln.Close()
	t.Logf(`net.Listen("tcp", "localhost:0") listens on %v`, ln.Addr())
	assert.Contains(t, addrs, ln.Addr().(*net.TCPAddr).IP.String())
}

func isLoopback(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

func isIPv4(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.To4() != nil
}
