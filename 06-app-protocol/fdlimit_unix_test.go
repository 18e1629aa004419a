//go:build unix

package app_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// fdLimit returns how many descriptors this process may open.
func fdLimit(t *testing.T) (limit uint64, known bool) {
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	return uint64(lim.Cur), true
}
