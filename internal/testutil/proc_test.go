package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/internal/testutil/internal/fake"
)

// helperBin builds testdata/helper, a tiny program for the process helpers
// to run, once for the test binary.
func helperBin(t *testing.T) string {
	t.Helper()
	return Build(t, "./testdata/helper")
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
	f := fake.Run(t, func(tb testing.TB) { Build(tb, dir) })
	assert.Contains(t, f.Report(), "undefined: undefined")
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
	f := fake.Run(t, func(tb testing.TB) {
		Start(tb, exec.Command(bin, "echo", "hello")).WaitOutput("goodbye")
	})
	assert.Contains(t, f.Report(), `exited before printing "goodbye"`)
}

func TestWaitKillsAHungProcess(t *testing.T) {
	bin := helperBin(t)
	f := fake.Run(t, func(tb testing.TB) {
		Start(tb, exec.Command(bin, "hang")).wait(50 * time.Millisecond)
	})
	assert.Contains(t, f.Report(), "did not exit within 50ms")
}

func TestCleanupKillsARunningProcess(t *testing.T) {
	bin := helperBin(t)
	var p *Process
	f := fake.Run(t, func(tb testing.TB) { p = Start(tb, exec.Command(bin, "hang")) })
	assert.Empty(t, f.Report())
	select {
	case <-p.done:
	default:
		t.Fatal("the process still runs after cleanup")
	}
}

func TestNeedTool(t *testing.T) {
	assert.NotEmpty(t, NeedTool(t, "sh"))

	t.Setenv("CI", "")
	f := fake.Run(t, func(tb testing.TB) { NeedTool(tb, "no-such-tool-here") })
	assert.Contains(t, f.SkipReason(), "no-such-tool-here is not installed")

	t.Setenv("CI", "true")
	f = fake.Run(t, func(tb testing.TB) { NeedTool(tb, "no-such-tool-here") })
	assert.Contains(t, f.Report(), "no-such-tool-here is needed and CI is set")
}
