package coursecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/internal/testutil"
	"example.com/sockets/internal/testutil/internal/fake"
)

const sampleReadme = "# Sample\n\n" +
	"<!-- check: greet -->\n" +
	"```console\n" +
	"$ echo hello\n" +
	"hello\n" +
	"```\n\n" +
	"<!-- check: two -->\n" +
	"```console\n" +
	"$ echo a\n" +
	"a\n" +
	"$ echo b\n" +
	"b\n" +
	"```\n\n" +
	"```go\n" +
	"func add(a, b int) int {\n" +
	"\treturn a + b\n" +
	"// ...\n" +
	"}\n" +
	"```\n"

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestReadmeCommands(t *testing.T) {
	r := LoadReadme(t, writeFile(t, t.TempDir(), "README.md", sampleReadme))
	assert.Equal(t, "echo hello", r.Command(t, "greet"))
	assert.Equal(t, []string{"echo a", "echo b"}, r.Commands(t, "two"))
	assert.Equal(t, "$ echo a\na\n$ echo b\nb\n", r.Text(t, "two"))
	r.Check(t, "greet", "$ echo hello\nhello\n")
	r.Check(t, "two", "$ echo a\na\n$ echo b\nb\n\n")
}

func TestReadmeTranscript(t *testing.T) {
	r := LoadReadme(t, writeFile(t, t.TempDir(), "README.md", sampleReadme))
	two := r.Transcript(t, "two")
	assert.Equal(t, "$ echo a\na\n$ echo b\nb\n", two)
	r.Check(t, "two", two)
	// The rewrite changes what runs, not the line the transcript shows.
	greet := r.Transcript(t, "greet", "hello", "bye")
	assert.Equal(t, "$ echo hello\nbye\n", greet)
	r.Check(t, "greet", strings.Replace(greet, "bye", "hello", 1))
}

func TestAsShown(t *testing.T) {
	asShown := AsShown("127.0.0.1:40001", "127.0.0.1:5000", "65433")
	got := asShown("listening on 127.0.0.1:40001\nfrom 127.0.0.1:51234\nto [::1]:65433\n")
	assert.Equal(t, "listening on 127.0.0.1:5000\nfrom 127.0.0.1:PORT\nto [::1]:65433\n", got)
}

func TestReadmeReportsProblems(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		readme string
		body   func(tb testing.TB, r *Readme)
		want   string
	}{
		{
			name:   "unnamed console block",
			readme: "```console\n$ ls\n```\n",
			want:   "README.md:1: console block has no <!-- check: NAME --> line before it",
		},
		{
			name:   "block never checked",
			readme: sampleReadme,
			body:   func(tb testing.TB, r *Readme) { r.Check(tb, "greet", "$ echo hello\nhello\n") },
			want:   `README.md:10: console block "two" is not checked by any test`,
		},
		{
			name:   "output differs",
			readme: "<!-- check: x -->\n```console\n$ echo hello\nhello\n```\n",
			body:   func(tb testing.TB, r *Readme) { r.Check(tb, "x", "$ echo hello\nhullo\n") },
			want:   `README.md:2: console block "x" differs from a real run`,
		},
		{
			name:   "duplicate name",
			readme: "<!-- check: x -->\n```console\n$ a\n```\n<!-- check: x -->\n```console\n$ b\n```\n",
			body:   func(tb testing.TB, r *Readme) { r.Check(tb, "x", "$ a\n") },
			want:   `a console block named "x" already exists`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, "README.md", tt.readme)
			f := fake.Run(t, func(tb testing.TB) {
				r := LoadReadme(tb, path)
				if tt.body != nil {
					tt.body(tb, r)
				}
			})
			assert.Contains(t, f.Report(), tt.want)
		})
	}
}

func TestCheckTestNames(t *testing.T) {
	dir := t.TempDir()
	readme := writeFile(t, dir, "README.md", "See `TestEcho` and BenchmarkEcho.\n\nAlso TestEcho, FuzzGone and ExampleGone_x, but not Testing or TestMainly.\n")
	writeFile(t, dir, "echo_test.go", "package x\n\nfunc TestEcho(t *testing.T) {}\n\nfunc BenchmarkEcho(b *testing.B) {}\n\nfunc TestMainly(t *testing.T) {}\n")
	f := fake.Run(t, func(tb testing.TB) { LoadReadme(tb, readme).CheckTestNames(tb, dir) })
	assert.Equal(t, []string{
		readme + ":3: names FuzzGone, but no _test.go file under " + dir + " defines it",
		readme + ":3: names ExampleGone_x, but no _test.go file under " + dir + " defines it",
	}, f.Errors())
}

func TestReadmeSkip(t *testing.T) {
	path := writeFile(t, t.TempDir(), "README.md", "<!-- check: x -->\n```console\n$ a\n```\n")
	f := fake.Run(t, func(tb testing.TB) {
		r := LoadReadme(tb, path)
		r.Uses(tb, "x")
		r.Skip(tb, "no IPv6 here")
	})
	assert.Empty(t, f.Report())
	assert.Contains(t, f.SkipReason(), `console blocks ["x"] not checked: no IPv6 here`)
}

func TestCheckGoSnippets(t *testing.T) {
	dir := t.TempDir()
	readme := writeFile(t, dir, "README.md", sampleReadme)
	src := filepath.Join(dir, "src")
	require.NoError(t, os.Mkdir(src, 0o755))

	writeFile(t, src, "add.go", "package x\n\n// add adds.\nfunc add(a, b int) int {\n\t\treturn a + b\n}\n")
	f := fake.Run(t, func(tb testing.TB) {
		r := LoadReadme(tb, readme)
		r.CheckGoSnippets(tb, src)
		r.Check(tb, "greet", "$ echo hello\nhello\n")
		r.Check(tb, "two", "$ echo a\na\n$ echo b\nb\n")
	})
	assert.Empty(t, f.Report())

	writeFile(t, src, "add.go", "package x\n\nfunc add(a, b int) int {\n\treturn b + a\n}\n")
	f = fake.Run(t, func(tb testing.TB) {
		r := LoadReadme(tb, readme)
		r.CheckGoSnippets(tb, src)
		r.Check(tb, "greet", "$ echo hello\nhello\n")
		r.Check(tb, "two", "$ echo a\na\n$ echo b\nb\n")
	})
	assert.Contains(t, f.Report(), `README.md:17: go snippet is not in any .go file`)
}

func TestMain(m *testing.M) { testutil.Main(m) }

func TestTerminal(t *testing.T) {
	bin := testutil.Build(t, "../testdata/helper")
	term := NewTerminal(t, "go run ./helper", bin, "./helper", bin)

	assert.Equal(t, 1, term.Run("./helper echo hi"))
	assert.Equal(t, 2, term.Run("go run ./helper echo hi there"))
	assert.Equal(t, 1, term.Run("echo | go run ./helper echo piped"))
	p := term.Start("go run ./helper wait-for-interrupt")
	p.WaitOutput("ready\n")
	term.Interrupt(p)
	assert.Equal(t, 3, p.Wait())
	assert.Equal(t, 1, term.Run("./helper echo after"))

	want := strings.Join([]string{
		"$ ./helper echo hi",
		"hi",
		"to stderr",
		"$ go run ./helper echo hi there",
		"hi there",
		"to stderr",
		"exit status 2",
		"$ echo | go run ./helper echo piped",
		"piped",
		"to stderr",
		"exit status 1",
		"$ go run ./helper wait-for-interrupt",
		"ready",
		"^Cinterrupted",
		"exit status 3",
		"$ ./helper echo after",
		"after",
		"to stderr",
		"",
	}, "\n")
	assert.Equal(t, want, term.Transcript())
}

func TestSquashSpaces(t *testing.T) {
	assert.Equal(t, "State Recv-Q\nLISTEN 0", SquashSpaces("State  Recv-Q\nLISTEN\t   0"))
}

// threeBlocks is a README whose three console blocks one test checks, the
// way a chapter's subtest checks a server, a client and nc beside them.
const threeBlocks = "<!-- check: server -->\n```console\n$ server\n```\n\n" +
	"<!-- check: client -->\n```console\n$ client\n```\n\n" +
	"<!-- check: nc -->\n```console\n$ nc\n```\n"

func TestReadmeNeed(t *testing.T) {
	path := writeFile(t, t.TempDir(), "README.md", threeBlocks)
	checkAll := func(tb testing.TB, r *Readme, tool string) {
		r.Uses(tb, "server", "client", "nc")
		r.Need(tb, tool)
		r.Check(tb, "server", "$ server\n")
		r.Check(tb, "client", "$ client\n")
		r.Check(tb, "nc", "$ nc\n")
	}

	f := fake.Run(t, func(tb testing.TB) { checkAll(tb, LoadReadme(tb, path), "sh") })
	assert.Empty(t, f.Report(), "the tool is there: all three blocks checked")
	assert.Empty(t, f.SkipReason())

	t.Setenv("CI", "")
	f = fake.Run(t, func(tb testing.TB) { checkAll(tb, LoadReadme(tb, path), "no-such-tool-here") })
	assert.Empty(t, f.Report(), "all three blocks count as handled")
	assert.Contains(t, f.SkipReason(), `console blocks ["server" "client" "nc"] not checked: no-such-tool-here is not installed`)

	t.Setenv("CI", "true")
	f = fake.Run(t, func(tb testing.TB) { checkAll(tb, LoadReadme(tb, path), "no-such-tool-here") })
	assert.Contains(t, f.Report(), "no-such-tool-here is needed and CI is set")
}

// TestReadmeUsesCatchesMistakes covers the mistakes that would let a
// machine without a tool fail where one with it passes: checking a block
// the skip would not mark, declaring one and not checking it, needing a
// tool before saying which blocks need it.
func TestReadmeUsesCatchesMistakes(t *testing.T) {
	path := writeFile(t, t.TempDir(), "README.md", threeBlocks)
	tests := []struct {
		name string
		body func(tb testing.TB, r *Readme)
		want string
	}{
		{
			name: "a block checked but not declared",
			body: func(tb testing.TB, r *Readme) {
				r.Uses(tb, "server", "nc")
				r.Need(tb, "sh")
				r.Check(tb, "server", "$ server\n")
				r.Check(tb, "client", "$ client\n")
				r.Check(tb, "nc", "$ nc\n")
			},
			want: `README.md:7: console block "client" is checked by a test that declared only ["server" "nc"] with Uses`,
		},
		{
			name: "a block declared but not checked",
			body: func(tb testing.TB, r *Readme) {
				r.Check(tb, "server", "$ server\n")
				r.Uses(tb, "client", "nc")
				r.Need(tb, "sh")
				r.Check(tb, "client", "$ client\n")
			},
			want: `README.md:12: console block "nc" was declared with Uses but the test did not check it`,
		},
		{
			name: "Need before Uses",
			body: func(tb testing.TB, r *Readme) { r.Need(tb, "sh") },
			want: "Need called before Uses",
		},
		{
			name: "Skip before Uses",
			body: func(tb testing.TB, r *Readme) { r.Skip(tb, "no reason") },
			want: "Skip called before Uses",
		},
		{
			name: "Uses twice",
			body: func(tb testing.TB, r *Readme) {
				r.Uses(tb, "server")
				r.Uses(tb, "client")
			},
			want: "Uses called twice by one test",
		},
		{
			name: "Uses of a block that does not exist",
			body: func(tb testing.TB, r *Readme) { r.Uses(tb, "servre") },
			want: `has no console block named "servre"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.Run(t, func(tb testing.TB) { tt.body(tb, LoadReadme(tb, path)) })
			assert.Contains(t, f.Report(), tt.want)
		})
	}
}

// TestReadmeNeedNetcat: the READMEs show netcat-openbsd; where nc is
// another netcat, the blocks that need it are skipped, naming why.
func TestReadmeNeedNetcat(t *testing.T) {
	path := writeFile(t, t.TempDir(), "README.md", threeBlocks)
	for _, tt := range []struct {
		name, help, skipped string
	}{
		{"netcat-openbsd", "OpenBSD netcat (Debian patchlevel 1.219-1)", ""},
		{"Ncat", "Ncat 7.93 ( https://nmap.org/ncat )", "is not netcat-openbsd, whose output the README shows"},
		{"netcat-traditional", "[v1.10-47]", "is not netcat-openbsd, whose output the README shows"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			writeFile(t, bin, "nc", "#!/bin/sh\necho '"+tt.help+"' >&2\nexit 1\n")
			require.NoError(t, os.Chmod(filepath.Join(bin, "nc"), 0o755))
			t.Setenv("PATH", bin)
			t.Setenv("CI", "")
			f := fake.Run(t, func(tb testing.TB) {
				r := LoadReadme(tb, path)
				r.Uses(tb, "server", "client", "nc")
				assert.Equal(t, filepath.Join(bin, "nc"), r.Need(tb, "nc"))
				r.Check(tb, "server", "$ server\n")
				r.Check(tb, "client", "$ client\n")
				r.Check(tb, "nc", "$ nc\n")
			})
			assert.Empty(t, f.Report())
			if tt.skipped == "" {
				assert.Empty(t, f.SkipReason())
			} else {
				assert.Contains(t, f.SkipReason(), tt.skipped)
			}
		})
	}
}
