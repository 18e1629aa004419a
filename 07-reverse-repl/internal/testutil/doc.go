// Package testutil is the course's test kit: the helpers that every chapter's
// tests share.
//
// The original lives in internal/testutil at the root of the repository, with
// its own go.mod and tests. Every chapter carries a byte-identical copy of its
// .go files in NN-name/internal/testutil, so that a chapter copied out of the
// repository still builds and tests on its own. Do not edit a copy: edit the
// original and run
//
//	scripts/sync-testutil
//
// from the repository root. CI fails when a copy differs from the original.
//
// Chapters import their copy from _test.go files only. Every helper takes a
// testing.TB, calls t.Helper, bounds every wait by Timeout and cleans up after
// itself with t.Cleanup, so a test that uses them cannot hang or leak.
package testutil

import "time"

// Timeout bounds every wait in this package: dialing, a deadline on a test
// connection, waiting for a server to stop, for output or for a process to
// exit. It is long enough for a loaded CI machine running -race and short
// enough that a hung test fails well before go test's own 10-minute timeout.
const Timeout = 10 * time.Second
