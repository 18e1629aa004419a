package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// builds remembers what Build has built, so each package is compiled once
// per test binary: the kit's one package-level state, which Main removes.
var builds struct {
	mu     sync.Mutex
	inMain bool // set by Main, which removes dir at the end
	dir    string
	byPkg  map[string]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// buildTimeout bounds one `go build`: a cold build cache on a slow machine
// can take a while, but it must not hang a test forever.
const buildTimeout = 5 * time.Minute

// Build compiles the main package in directory pkg (relative to the test's
// directory, such as "./cmd/echo-server") with `go build` and returns the
// path of the binary. The binary keeps the package's name, so its usage and
// error messages read as they do for a learner. Each package is built once
// per test binary; the package's TestMain must call Main, which removes the
// binaries when the tests end.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	builds.mu.Lock()
	if !builds.inMain {
		builds.mu.Unlock()
		t.Fatal("testutil.Build: call testutil.Main from TestMain, so the built binaries are removed at the end")
	}
	dir, err := buildDirLocked()
	if err != nil {
		builds.mu.Unlock()
		t.Fatalf("testutil.Build: %v", err)
	}
	// Key by where the package is, however a test names it.
	key, err := filepath.Abs(pkg)
	if err != nil {
		builds.mu.Unlock()
		t.Fatalf("testutil.Build: %v", err)
	}
	b := builds.byPkg[key]
	if b == nil {
		b = new(build)
		// A directory per package keeps two packages with the same
		// last element from overwriting each other's binary.
		b.path = filepath.Join(dir, strconv.Itoa(len(builds.byPkg)), filepath.Base(key))
		builds.byPkg[key] = b
	}
	builds.mu.Unlock()

	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.path, ".")
		cmd.Dir = key
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// buildDirLocked returns the directory for this test binary's builds,
// creating it on first use. The caller holds builds.mu.
func buildDirLocked() (string, error) {
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "testutil-bin-")
		if err != nil {
			return "", err
		}
		builds.dir = dir
		builds.byPkg = make(map[string]*build)
	}
	return builds.dir, nil
}

func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
		builds.dir = ""
	}
}

// Process is a command started by Start: a real process whose output is
// captured while it runs.
type Process struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	stdout *Buffer
	stderr *Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // from cmd.Wait, set before done is closed

	// exited, if set, runs once the process has exited, before done is
	// closed (see StartCombined).
	exited func(*os.ProcessState)
}

// Start starts cmd with its standard output and standard error captured
// separately (read them with Stdout and Stderr). The process runs in its own
// process group, like a job started from a shell; if it is still running at
// cleanup, the whole group is killed.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{stdout: new(Buffer), stderr: new(Buffer)}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	return start(t, cmd, p, nil)
}

// StartCombined starts cmd like Start, but with its standard output and
// standard error going to out, in the order the process wrote them, as on a
// terminal: Stdout and WaitOutput read out, and Stderr stays empty. name is
// what failures call the process. If exited is not nil, it runs once the
// process has exited, before Wait returns, to add to out what a terminal
// would show then.
func StartCombined(t testing.TB, name string, cmd *exec.Cmd, out *Buffer, exited func(*os.ProcessState)) *Process {
	t.Helper()
	p := &Process{stdout: out, stderr: new(Buffer)}
	// The same writer for both makes os/exec use a single pipe, which
	// keeps the order of the two streams.
	cmd.Stdout, cmd.Stderr = out, out
	p = start(t, cmd, p, exited)
	p.name = name
	return p
}

func start(t testing.TB, cmd *exec.Cmd, p *Process, exited func(*os.ProcessState)) *Process {
	t.Helper()
	p.t, p.cmd, p.name, p.exited = t, cmd, filepath.Base(cmd.Path), exited
	p.done = make(chan struct{})
	newProcessGroup(cmd)
	// If the process leaves a child holding its output open, Wait gives
	// up on the output a second after the process itself has exited.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	go func() {
		p.err = cmd.Wait()
		if p.exited != nil {
			p.exited(cmd.ProcessState)
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			killGroup(cmd)
			<-p.done
		}
	})
	return p
}

// Run starts cmd like Start and waits, at most Timeout, for it to exit.
func Run(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := Start(t, cmd)
	p.Wait()
	return p
}

// Pid returns the process's ID, for looking it up in /proc or ps.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stdout returns what the process has written to its standard output so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr returns what the process has written to its standard error so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Wait waits, at most Timeout, for the process to exit and returns its exit
// code. On timeout it kills the process and fails the test, showing its output.
func (p *Process) Wait() int {
	p.t.Helper()
	return p.wait(Timeout)
}

func (p *Process) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		killGroup(p.cmd)
		<-p.done
		p.t.Fatalf("%s did not exit within %v\nstdout:\n%s\nstderr:\n%s", p.name, timeout, p.Stdout(), p.Stderr())
		return -1
	}
	var exit *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exit) {
		p.t.Fatalf("wait for %s: %v", p.name, p.err)
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Interrupt sends SIGINT to the process's group, as Ctrl-C in a terminal does.
func (p *Process) Interrupt() {
	p.t.Helper()
	if err := interruptGroup(p.cmd); err != nil {
		p.t.Fatalf("interrupt %s: %v", p.name, err)
	}
}

// WaitOutput waits, at most Timeout, until the process's standard output
// matches the regular expression expr, and returns the match and its
// submatches (as regexp.FindStringSubmatch does). It fails the test if the
// process exits or the time runs out first.
func (p *Process) WaitOutput(expr string) []string {
	p.t.Helper()
	re := regexp.MustCompile(expr)
	deadline := time.After(Timeout)
	for {
		text, changed := p.stdout.snapshot()
		if m := re.FindStringSubmatch(text); m != nil {
			return m
		}
		select {
		case <-changed:
		case <-p.done:
			// The process may have written its last words just before
			// exiting; look once more before giving up.
			if m := re.FindStringSubmatch(p.stdout.String()); m != nil {
				return m
			}
			p.t.Fatalf("%s exited before printing %q\nstdout:\n%s\nstderr:\n%s", p.name, expr, p.Stdout(), p.Stderr())
		case <-deadline:
			p.t.Fatalf("%s did not print %q within %v\nstdout:\n%s\nstderr:\n%s", p.name, expr, Timeout, p.Stdout(), p.Stderr())
		}
	}
}

// Buffer is a bytes.Buffer that is safe for concurrent use and lets a reader
// wait for the next write: the capture behind a Process.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed by the next Write
}

// Write appends p to the buffer and wakes whoever waits for a change.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// snapshot returns the contents and a channel that is closed by the next Write.
func (b *Buffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.buf.String(), b.changed
}

// NeedTool returns the path of an external program a test needs, such as nc
// or ss. When the program is missing the test is skipped, except under CI
// (the CI environment variable is set), where it fails: CI must never skip a
// check quietly.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed and CI is set: install it (%v)", name, err)
		}
		t.Skipf("%s is not installed: %v", name, err)
	}
	return path
}
