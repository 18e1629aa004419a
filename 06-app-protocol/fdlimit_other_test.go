//go:build !unix

package app_test

import "testing"

// fdLimit does not know the limit where there is no getrlimit.
func fdLimit(t *testing.T) (limit uint64, known bool) { return 0, false }
