// Package testutil is the course's test kit: the helpers that every chapter's
// tests share. Each takes a testing.TB, calls t.Helper, bounds every wait by
// Timeout and cleans up with t.Cleanup, so a test that uses them cannot hang
// or leak.
//
// The original is internal/testutil at the root of the repository, a module
// with its own tests. Every chapter carries a byte-identical copy of its
// top-level non-test .go files in NN-name/internal/testutil, so a chapter
// copied out of the repository still tests on its own. Edit the original, then run
// scripts/sync-testutil from the root; CI fails when a copy differs.
package testutil

import "time"

// Timeout bounds every wait in this package: dialing, a deadline on a test
// connection, waiting for a server to stop, for output or for a process to
// exit. It is long enough for a loaded CI machine running -race and short
// enough that a hung test fails well before go test's own 10-minute timeout.
const Timeout = 10 * time.Second
