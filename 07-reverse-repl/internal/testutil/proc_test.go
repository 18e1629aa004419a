package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A tiny program, built by Build from a module of its own, for the process
// helpers to run.
const helperMain = `package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	switch os.Args[1] {
	case "echo": // prints its arguments, then a line on stderr; exits with their count
		fmt.Println(strings.Join(os.Args[2:], " "))
		fmt.Fprintln(os.Stderr, "to stderr")
		os.Exit(len(os.Args) - 2)
	case "wait-for-interrupt":
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		fmt.Println("ready")
		<-c
		fmt.Println("interrupted")
		os.Exit(3)
	case "hang":
		signal.Ignore(os.Interrupt)
		time.Sleep(time.Hour)
	}
}
`

// helperBin builds helperMain once for the test binary. Its source goes in
// this test binary's own build directory, which Main removes at the end, so
// that several copies of these tests can run at once.
func helperBin(t *testing.T) string {
	t.Helper()
	builds.mu.Lock()
	top, err := buildDirLocked()
	builds.mu.Unlock()
	require.NoError(t, err)
	dir := filepath.Join(top, "src", "helper")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module helper\n\ngo 1.26.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(helperMain), 0o644))
	return Build(t, dir)
}

func TestBuildOncePerPackage(t *testing.T) {
	first := helperBin(t)
	info, err := os.Stat(first)
	require.NoError(t, err)
	assert.Equal(t, "helper", filepath.Base(first), "the binary keeps the package's name")

	second := helperBin(t)
	assert.Equal(t, first, second)
	again, err := os.Stat(second)
	require.NoError(t, err)
	assert.Equal(t, info.ModTime(), again.ModTime(), "a second Build must not rebuild")
}

func TestBuildReportsCompileErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken\n\ngo 1.26.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644))
	f := runFake(t, func(tb testing.TB) { Build(tb, dir) })
	assert.Contains(t, f.report(), "undefined: undefined")
}

func TestRun(t *testing.T) {
	p := Run(t, exec.Command(helperBin(t), "echo", "a", "b"))
	assert.Equal(t, "a b\n", p.Stdout())
	assert.Equal(t, "to stderr\n", p.Stderr())
	assert.Equal(t, 2, p.Wait(), "exit code")
}

func TestInterrupt(t *testing.T) {
	p := Start(t, exec.Command(helperBin(t), "wait-for-interrupt"))
	p.WaitOutput(`ready\n`)
	p.Interrupt()
	assert.Equal(t, 3, p.Wait())
	assert.Equal(t, "ready\ninterrupted\n", p.Stdout())
}

func TestWaitOutputSubmatches(t *testing.T) {
	p := Start(t, exec.Command(helperBin(t), "echo", "listening", "on", "127.0.0.1:5000"))
	m := p.WaitOutput(`listening on (\S+)`)
	assert.Equal(t, []string{"listening on 127.0.0.1:5000", "127.0.0.1:5000"}, m)
	assert.Positive(t, p.Pid())
	assert.Equal(t, p.cmd.Process.Pid, p.Pid())
}

func TestWaitOutputProcessExits(t *testing.T) {
	bin := helperBin(t)
	f := runFake(t, func(tb testing.TB) {
		Start(tb, exec.Command(bin, "echo", "hello")).WaitOutput("goodbye")
	})
	assert.Contains(t, f.report(), `exited before printing "goodbye"`)
}

func TestWaitKillsAHungProcess(t *testing.T) {
	bin := helperBin(t)
	f := runFake(t, func(tb testing.TB) {
		Start(tb, exec.Command(bin, "hang")).wait(50 * time.Millisecond)
	})
	assert.Contains(t, f.report(), "did not exit within 50ms")
}

func TestCleanupKillsARunningProcess(t *testing.T) {
	bin := helperBin(t)
	var p *Process
	f := runFake(t, func(tb testing.TB) { p = Start(tb, exec.Command(bin, "hang")) })
	assert.Empty(t, f.report())
	select {
	case <-p.done:
	default:
		t.Fatal("the process still runs after cleanup")
	}
}
