// Package coursecheck checks the course's READMEs: every command a chapter's
// README shows is run, the way a learner types it, and what it prints is
// compared with what the README says it prints; every Go snippet is found in
// the chapter's source, and every test it names exists. It lives in the test
// kit's module but is not copied into the chapters: it tests the course's
// text, not a chapter's program. Its sub-directories hold one test per
// chapter, named like the chapter; from the root of the repository:
//
//	go test ./internal/testutil/coursecheck/04-select
package coursecheck

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"example.com/sockets/internal/testutil"
)

// A chapter's README shows commands and what they print in ```console
// blocks. Each such block is named by an HTML comment on the line before its
// fence, which GitHub does not render:
//
//	<!-- check: server -->
//	```console
//	$ go run ./cmd/echo-server
//	listening on 127.0.0.1:65432
//	```
//
// and the chapter's TestREADME, in coursecheck/NN-name, runs the commands
// for real and compares.
// A console block without a name, or one that no test checks, fails the
// test: no command in a README goes unchecked.

// Readme is a chapter README loaded for checking.
type Readme struct {
	t        testing.TB
	path     string   // as messages name it
	file     string   // as it was read
	lines    []string // the whole README, for CheckTestNames
	console  map[string]*block
	order    []string
	snippets []*block // ```go blocks
	diffs    []*diffBlock

	mu   sync.Mutex
	uses map[testing.TB][]string // the blocks each test declared with Uses
}

type block struct {
	line    int
	text    string
	checked bool
}

var checkComment = regexp.MustCompile(`^<!-- check: ([\w.-]+) -->$`)

// OpenChapter makes name, a chapter's directory at the root of the repository
// (such as "04-select"), the working directory of t, as a learner's terminal
// is in it, and loads its README.md.
func OpenChapter(t *testing.T, name string) *Readme {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.work above the test's directory: where is the course?")
		}
		dir = parent
	}
	t.Chdir(filepath.Join(dir, name))
	return loadReadme(t, "README.md", filepath.Join(name, "README.md"))
}

// LoadReadme reads the README at path. At cleanup it fails t if a console
// block was neither checked nor skipped, so check every block from one test
// (subtests are fine). That check is left out when go test runs only some
// subtests (-run A/B) or skips some (-skip).
func LoadReadme(t testing.TB, path string) *Readme {
	t.Helper()
	return loadReadme(t, path, path)
}

// loadReadme is LoadReadme; messages call the file shown.
func loadReadme(t testing.TB, path, shown string) *Readme {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	lines := strings.Split(string(data), "\n")
	r := &Readme{t: t, path: shown, file: path, lines: lines, console: make(map[string]*block), uses: make(map[testing.TB][]string)}
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		b := &block{line: start + 1, text: strings.Join(body, "\n") + "\n"}
		switch strings.TrimSpace(info) {
		case "go":
			r.snippets = append(r.snippets, b)
		case "diff":
			var m []string
			if start > 0 {
				m = diffComment.FindStringSubmatch(lines[start-1])
			}
			if m == nil {
				t.Errorf("%s:%d: diff block has no <!-- diff: OLD NEW DECL... --> line before it; every diff shown must be checked", shown, b.line)
				continue
			}
			r.diffs = append(r.diffs, &diffBlock{block: b, old: m[1], new: m[2], decls: strings.Fields(m[3])})
		case "console":
			var m []string
			if start > 0 {
				m = checkComment.FindStringSubmatch(lines[start-1])
			}
			switch {
			case m == nil:
				t.Errorf("%s:%d: console block has no <!-- check: NAME --> line before it; every command shown must be checked by a test", shown, b.line)
			case r.console[m[1]] != nil:
				t.Errorf("%s:%d: a console block named %q already exists", shown, b.line, m[1])
			default:
				r.console[m[1]] = b
				r.order = append(r.order, m[1])
			}
		}
	}
	t.Cleanup(func() {
		if filtered() {
			return // -run or -skip chose some subtests; the others did not run
		}
		for _, name := range r.order {
			if b := r.console[name]; !b.checked {
				t.Errorf("%s:%d: console block %q is not checked by any test", shown, b.line, name)
			}
		}
		for _, d := range r.diffs {
			if !d.checked {
				t.Errorf("%s:%d: diff block is not checked: call CheckDiffs", shown, d.line)
			}
		}
	})
	return r
}

// filtered reports whether go test was asked to run only some subtests
// (-run with a "/" in it) or to skip some (-skip).
func filtered() bool {
	run, skip := flag.Lookup("test.run"), flag.Lookup("test.skip")
	return (run != nil && strings.Contains(run.Value.String(), "/")) ||
		(skip != nil && skip.Value.String() != "")
}

func (r *Readme) block(t testing.TB, name string) *block {
	t.Helper()
	b := r.console[name]
	if b == nil {
		t.Fatalf("%s has no console block named %q", r.path, name)
	}
	return b
}

// Commands returns the command lines of the console block name: its lines
// that start with the prompt "$ ", without the prompt.
func (r *Readme) Commands(t testing.TB, name string) []string {
	t.Helper()
	var cmds []string
	for line := range strings.Lines(r.block(t, name).text) {
		if c, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "$ "); ok {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("%s: console block %q has no command line", r.path, name)
	}
	return cmds
}

// Text returns the whole text of the console block name, for a test that
// needs more than its command lines: the lines typed at a program's own
// prompt, say. It does not count as checking the block.
func (r *Readme) Text(t testing.TB, name string) string {
	t.Helper()
	return r.block(t, name).text
}

// Command returns the one command line of the console block name.
func (r *Readme) Command(t testing.TB, name string) string {
	t.Helper()
	cmds := r.Commands(t, name)
	if len(cmds) != 1 {
		t.Fatalf("%s: console block %q has %d commands, want 1", r.path, name, len(cmds))
	}
	return cmds[0]
}

// Check compares the console block name with got, a transcript of a real
// run. Both sides lose trailing spaces and trailing blank lines, then go
// through each normalize function in turn (to mask port numbers, say).
func (r *Readme) Check(t testing.TB, name, got string, normalize ...func(string) string) {
	t.Helper()
	b := r.block(t, name)
	r.mu.Lock()
	declared, ok := r.uses[t]
	b.checked = true
	r.mu.Unlock()
	if ok && !slices.Contains(declared, name) {
		t.Errorf("%s:%d: console block %q is checked by a test that declared only %q with Uses: add it there, or a machine without the test's tools fails", r.path, b.line, name, declared)
	}
	clean := func(s string) string {
		var out []string
		for line := range strings.Lines(s) {
			out = append(out, strings.TrimRight(line, " \t\r\n"))
		}
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
		s = strings.Join(out, "\n")
		for _, f := range normalize {
			s = f(s)
		}
		return s
	}
	lines := func(s string) []string { return strings.Split(clean(s), "\n") }
	if diff := cmp.Diff(lines(b.text), lines(got)); diff != "" {
		t.Errorf("%s:%d: console block %q differs from a real run (-README +run):\n%s\nThe run printed:\n%s", r.path, b.line, name, diff, got)
	}
}

// Uses declares, once and before any other call with t, the console blocks
// that the test t checks. It is what makes the tools a block needs
// optional without losing a check:
//
//   - when Need finds a tool missing, or Skip is called, t is skipped and
//     exactly these blocks count as handled;
//   - t may check only these blocks: a Check of another one fails;
//   - t must check every one of them: one left unchecked when t ends (and
//     t neither skipped nor failed) fails.
//
// A test that needs no external program and never skips need not call Uses.
func (r *Readme) Uses(t testing.TB, blocks ...string) {
	t.Helper()
	if len(blocks) == 0 {
		t.Fatalf("%s: Uses needs the names of the console blocks the test checks", r.path)
	}
	for _, name := range blocks {
		r.block(t, name)
	}
	r.mu.Lock()
	_, again := r.uses[t]
	r.uses[t] = slices.Clone(blocks)
	r.mu.Unlock()
	if again {
		t.Fatalf("%s: Uses called twice by one test: declare all its blocks in one call", r.path)
	}
	t.Cleanup(func() {
		if t.Failed() || t.Skipped() {
			return
		}
		for _, name := range blocks {
			r.mu.Lock()
			b := r.console[name]
			checked := b.checked
			r.mu.Unlock()
			if !checked {
				t.Errorf("%s:%d: console block %q was declared with Uses but the test did not check it", r.path, b.line, name)
			}
		}
	})
}

// declared returns the blocks t declared with Uses, and fails t if it
// declared none.
func (r *Readme) declared(t testing.TB, caller string) []string {
	t.Helper()
	r.mu.Lock()
	blocks, ok := r.uses[t]
	r.mu.Unlock()
	if !ok {
		t.Fatalf("%s: %s called before Uses: declare the console blocks this test checks first, so that a skip marks exactly those", r.path, caller)
	}
	return blocks
}

// skip marks blocks as deliberately not checked in this run and skips t.
func (r *Readme) skip(t testing.TB, blocks []string, reason string) {
	t.Helper()
	r.mu.Lock()
	for _, name := range blocks {
		r.console[name].checked = true
	}
	r.mu.Unlock()
	t.Skipf("%s: console blocks %q not checked: %s", r.path, blocks, reason)
}

// Skip skips t with reason and marks the blocks it declared with Uses as
// deliberately not checked in this run.
func (r *Readme) Skip(t testing.TB, reason string) {
	t.Helper()
	r.skip(t, r.declared(t, "Skip"), reason)
}

// Need returns the path of the external program tool that the blocks t
// declared with Uses need. When it is missing, t is skipped and those blocks
// count as handled, except under CI, where t fails (see testutil.NeedTool).
func (r *Readme) Need(t testing.TB, tool string) string {
	t.Helper()
	blocks := r.declared(t, "Need")
	path, err := exec.LookPath(tool)
	if err == nil && tool == "nc" {
		err = openBSDNetcat(path)
	}
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is needed and CI is set: install it (%v)", tool, err)
	}
	if errors.Is(err, exec.ErrNotFound) {
		r.skip(t, blocks, tool+" is not installed")
	}
	r.skip(t, blocks, err.Error())
	return ""
}

// openBSDNetcat returns nil if the nc at path is netcat-openbsd, the nc of
// Debian and Ubuntu, whose flags and output the READMEs show: its help
// names it. Other netcats (Ncat, netcat-traditional) take other flags or
// print other lines, so where nc is one of them the blocks are skipped, as
// if nc were missing: the READMEs say in a line what changes for each.
func openBSDNetcat(path string) error {
	cmd := exec.Command(path, "-h") // help: prints and exits, reads nothing
	cmd.WaitDelay = testutil.Timeout
	out, _ := cmd.CombinedOutput()
	if strings.Contains(string(out), "OpenBSD netcat") {
		return nil
	}
	return fmt.Errorf("%s is not netcat-openbsd, whose output the README shows", path)
}

// CheckGoSnippets fails t for every ```go block of the README that is not a
// verbatim excerpt of a .go file under dir. Indentation and blank lines are
// ignored, and a line "// ..." splits a snippet into pieces that are looked
// up separately, so a README can quote a function with its middle left out.
func (r *Readme) CheckGoSnippets(t testing.TB, dir string) {
	t.Helper()
	var sources [][]string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sources = append(sources, codeLines(string(data)))
		return nil
	})
	if err != nil {
		t.Fatalf("read .go files under %s: %v", dir, err)
	}
	for _, b := range r.snippets {
		for _, piece := range strings.Split(b.text, "// ...\n") {
			want := codeLines(piece)
			if len(want) == 0 {
				continue
			}
			found := slices.ContainsFunc(sources, func(src []string) bool { return containsRun(src, want) })
			if !found {
				t.Errorf("%s:%d: go snippet is not in any .go file under %s; it starts %q", r.path, b.line, dir, want[0])
			}
		}
	}
}

// CheckTestNames fails t for every test, benchmark, fuzz target or example
// that the README names (TestEcho, BenchmarkEcho, FuzzDecode, ExampleDial)
// but that no _test.go file under dir defines, so that "see TestX" cannot
// point to a test that was renamed or never written.
func (r *Readme) CheckTestNames(t testing.TB, dir string) {
	t.Helper()
	defined := make(map[string]bool)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(data), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read _test.go files under %s: %v", dir, err)
	}
	reported := make(map[string]bool)
	for i, line := range r.lines {
		for _, name := range testName.FindAllString(line, -1) {
			if !defined[name] && !reported[name] {
				reported[name] = true
				t.Errorf("%s:%d: names %s, but no _test.go file under %s defines it", r.path, i+1, name, dir)
			}
		}
	}
}

var (
	testName = regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz|Example)[A-Z_]\w*`)
	testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz|Example)\w*)\(`)
)

// codeLines returns the lines of s with surrounding white space removed and
// blank lines dropped.
func codeLines(s string) []string {
	var out []string
	for line := range strings.Lines(s) {
		if l := strings.TrimSpace(line); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func containsRun(src, run []string) bool {
	for i := 0; i+len(run) <= len(src); i++ {
		if slices.Equal(src[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

// Terminal runs command lines the way a learner types them into one terminal
// and records the transcript: each line after the prompt "$ ", then what the
// command printed (standard output and error together, in order), and "^C"
// where Ctrl-C was pressed, on the line of what came next, as a terminal
// shows it.
type Terminal struct {
	t       testing.TB
	rewrite *strings.Replacer
	out     testutil.Buffer
}

// NewTerminal returns a terminal that runs each line with bash -c after
// replacing, in it, each old string with the new one that follows it (pairs
// as for strings.NewReplacer). That is how a test turns the README's
// `go run ./cmd/echo-server` into the binary from Build, and the README's
// default address into the test server's. The transcript keeps the line as
// the README shows it.
func NewTerminal(t testing.TB, oldnew ...string) *Terminal {
	t.Helper()
	return &Terminal{t: t, rewrite: strings.NewReplacer(oldnew...)}
}

// Start types line and leaves the command running, as with a server in its
// own terminal. Process.WaitOutput then matches the whole transcript. When
// line is a `go run` command, or a pipeline that ends with one, and exits
// with a non-zero code, the transcript ends with "exit status N", as go run
// prints it.
func (term *Terminal) Start(line string) *testutil.Process {
	term.t.Helper()
	if out := term.out.String(); out != "" && !strings.HasSuffix(out, "\n") {
		term.out.Write([]byte("\n")) // after a bare ^C, the prompt starts a new line
	}
	fmt.Fprintf(&term.out, "$ %s\n", line)
	var exited func(*os.ProcessState)
	if endsWithGoRun(line) {
		// go run reports a program's failure on its own last line.
		exited = func(ps *os.ProcessState) {
			if code := ps.ExitCode(); code > 0 {
				fmt.Fprintf(&term.out, "exit status %d\n", code)
			}
		}
	}
	cmd := exec.Command(shell(), "-c", term.rewrite.Replace(line))
	return testutil.StartCombined(term.t, strconv.Quote(line), cmd, &term.out, exited)
}

// endsWithGoRun reports whether the last command of line's pipeline is
// go run: the shell's exit code is then go run's.
func endsWithGoRun(line string) bool {
	last := line[strings.LastIndex(line, "|")+1:]
	return strings.HasPrefix(strings.TrimSpace(last), "go run ")
}

// Run types line, waits (at most Timeout) for the command to finish and
// returns its exit code.
func (term *Terminal) Run(line string) int {
	term.t.Helper()
	return term.Start(line).Wait()
}

// Interrupt presses Ctrl-C while p runs: the transcript shows ^C and p's
// process group gets SIGINT. As in a terminal, which echoes ^C without a
// newline, what p prints next follows on the same line: "^Cserver stopped".
// Output reaches the transcript a moment after the
// process writes it, so first wait with WaitOutput for what p should have
// printed by now, as a person watching the terminal would.
func (term *Terminal) Interrupt(p *testutil.Process) {
	term.t.Helper()
	term.out.Write([]byte("^C"))
	p.Interrupt()
}

// shell returns bash where there is one, else sh. bash -c runs a simple
// command in place of itself, so Ctrl-C reaches the command directly and its
// exit code is the command's own; dash, Debian's sh, stays in between.
func shell() string {
	if path, err := exec.LookPath("bash"); err == nil {
		return path
	}
	return "sh"
}

// Transcript returns everything the terminal has shown so far.
func (term *Terminal) Transcript() string { return term.out.String() }

// Transcript types each command line of the console block name into a new
// Terminal that rewrites oldnew (see NewTerminal), waits for each command to
// finish, and returns what the terminal shows: a real run, for Check.
func (r *Readme) Transcript(t testing.TB, name string, oldnew ...string) string {
	t.Helper()
	term := NewTerminal(t, oldnew...)
	for _, line := range r.Commands(t, name) {
		term.Run(line)
	}
	return term.Transcript()
}

// AsShown returns a normalizer for Check that turns a transcript from a test
// server at addr into what the README shows for its server at shown: addr
// is written as shown, and every other port is masked except shown's and
// those in keep (see testutil.MaskPorts).
func AsShown(addr, shown string, keep ...string) func(string) string {
	_, port, _ := net.SplitHostPort(shown)
	keep = append([]string{port}, keep...)
	return func(s string) string {
		return testutil.MaskPorts(strings.ReplaceAll(s, addr, shown), keep...)
	}
}

// SquashSpaces returns s with every run of spaces and tabs inside a line
// turned into one space: for tools such as ss that align columns to the
// width of what they print.
func SquashSpaces(s string) string {
	return spaces.ReplaceAllString(s, " ")
}

var spaces = regexp.MustCompile(`[ \t]+`)
