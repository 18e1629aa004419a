package multiconn_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/05-multiconn/internal/testutil"
)

// The servers the README measures this chapter's against are in compare/
// (C, over epoll) and python/. These tests build the C one and check that
// it echoes, and run compare/run.sh, the command that makes the README's
// table, briefly.

// buildCServer compiles compare/epoll_echo.c into a temporary directory,
// as compare/run.sh does, and fails t on any warning.
func buildCServer(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the C server uses epoll, which only Linux has")
	}
	cc := testutil.NeedTool(t, "cc")
	bin := filepath.Join(t.TempDir(), "epoll_echo")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, cc, "-O2", "-Wall", "-Wextra", "-o", bin, "compare/epoll_echo.c").CombinedOutput()
	require.NoError(t, err, "cc:\n%s", out)
	require.Empty(t, string(out), "cc printed warnings")
	return bin
}

func TestCServerEchoes(t *testing.T) {
	bin := buildCServer(t)
	srv := testutil.Start(t, exec.Command(bin, "0")) // port 0: any free port
	addr := srv.WaitOutput(`listening on (127\.0\.0\.1:\d+)\n`)[1]

	// Two clients at once, each echoed in turn.
	a, b := testutil.Dial(t, addr), testutil.Dial(t, addr)
	assert.Equal(t, "hello", string(echoOnce(t, a, "hello")))
	assert.Equal(t, "world", string(echoOnce(t, b, "world")))

	// 8 MiB, far more than the server reads at once (64 KiB), sent while
	// the client reads the echo slowly: the server must hold back what
	// the client cannot take yet, and lose none of it.
	msg := randomBytes(8 << 20)
	sent := make(chan error, 1)
	go func() {
		_, err := b.Write(msg)
		if err == nil {
			err = b.CloseWrite()
		}
		sent <- err
	}()
	got, err := io.ReadAll(testutil.SlowReads(b, 4096))
	require.NoError(t, err)
	require.NoError(t, testutil.Receive(t, sent, "the write"))
	assert.True(t, bytes.Equal(msg, got), "the echo of 8 MiB differs: %d bytes back", len(got))

	// The other client is still served.
	assert.Equal(t, "again", string(echoOnce(t, a, "again")))

	srv.Interrupt()
	assert.Equal(t, 0, srv.Wait())
	assert.Equal(t, "listening on "+addr+"\nserver stopped\n", srv.Stdout())
	assert.Empty(t, srv.Stderr())
}

func TestCServerUsage(t *testing.T) {
	bin := buildCServer(t)
	for _, args := range [][]string{{}, {"65536"}, {"port"}, {"1", "2"}} {
		t.Run(strings.Join(append([]string{"epoll_echo"}, args...), " "), func(t *testing.T) {
			p := testutil.Run(t, exec.Command(bin, args...))
			assert.Equal(t, 2, p.Wait())
			assert.Contains(t, p.Stderr(), "epoll_echo")
			assert.Empty(t, p.Stdout())
		})
	}
}

// compare/run.sh, with one round of 100ms per server and workload: it
// prints the table, with a column for each server it could run and a line
// for each it could not.
func TestCompareScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every server under load for a few seconds")
	}
	testutil.NeedTool(t, "bash")
	_, ccErr := exec.LookPath("cc")
	_, pyErr := exec.LookPath("python3")

	t.Run("with the tools here", func(t *testing.T) {
		out := runCompare(t, os.Getenv("PATH"))
		header := "| 64-byte ping-pong and a stream | Go (this chapter) |"
		if ccErr == nil && runtime.GOOS == "linux" {
			header += " C, epoll |"
		}
		if pyErr == nil {
			header += " Python, selectors |"
		} else {
			assert.Contains(t, out, "no Python server: python3 is not installed\n")
		}
		checkTable(t, out, header)
	})
	t.Run("without cc and python3", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("a PATH of links to every program but two: Linux only")
		}
		out := runCompare(t, pathWithout(t, "cc", "python3"))
		assert.Contains(t, out, "no C server: cc (a C compiler) is not installed\n")
		assert.Contains(t, out, "no Python server: python3 is not installed\n")
		checkTable(t, out, "| 64-byte ping-pong and a stream | Go (this chapter) |")
	})
}

// runCompare runs compare/run.sh, briefly, with path as PATH, and returns
// what it printed.
func runCompare(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command("bash", "compare/run.sh")
	cmd.Env = append(os.Environ(), "RUNS=1", "DURATION=100ms", "PATH="+path)
	p := testutil.Start(t, cmd)
	require.Equal(t, 0, p.Wait(), "stdout:\n%s\nstderr:\n%s", p.Stdout(), p.Stderr())
	return p.Stdout()
}

// checkTable checks that out ends with the table, with the header given
// and a figure in each cell.
func checkTable(t *testing.T, out, header string) {
	t.Helper()
	i := strings.Index(out, "| 64-byte")
	require.GreaterOrEqual(t, i, 0, "no table in:\n%s", out)
	lines := strings.Split(strings.TrimSuffix(out[i:], "\n"), "\n")
	require.Len(t, lines, 5, out)
	assert.Equal(t, header, lines[0])
	columns := strings.Count(header, "|") - 1
	assert.Equal(t, "|"+strings.Repeat(" --- |", columns), lines[1])
	cell := regexp.MustCompile(`^\d{1,3}(,\d{3})*( \(\d\.\d\d(–\d\.\d\d)? of C\))?$`)
	for j, title := range []string{"1 connection, messages/s", "100 connections, messages/s", "1 connection, stream, MB/s"} {
		cells := strings.Split(strings.Trim(lines[2+j], "| "), " | ")
		require.Len(t, cells, columns, lines[2+j])
		assert.Equal(t, title, cells[0])
		for _, c := range cells[1:] {
			assert.Regexp(t, cell, c, lines[2+j])
		}
	}
}

// pathWithout returns a PATH with every program of the current one except
// those named: a directory of links to them.
func pathWithout(t *testing.T, hidden ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			target := filepath.Join(d, name)
			if isHidden(name, hidden) {
				continue
			}
			if info, err := os.Stat(target); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				continue // an earlier PATH entry wins, as in a shell
			}
			require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))
		}
	}
	for _, h := range hidden {
		_, err := exec.LookPath(filepath.Join(dir, h))
		require.Error(t, err, "%s is still there", h)
	}
	return dir
}

// isHidden reports whether name is one of hidden or a versioned name of
// one (python3.11 for python3).
func isHidden(name string, hidden []string) bool {
	for _, h := range hidden {
		if name == h || strings.HasPrefix(name, h+".") {
			return true
		}
	}
	return false
}
