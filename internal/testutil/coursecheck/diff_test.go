package coursecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/internal/testutil/internal/fake"
)

// Two chapters' worth of a server: the second adds a goroutine and a field.
const (
	oldServer = `package one

// Server serves.
type Server struct {
	Log string
}

// Serve is the loop.
func (s *Server) Serve() {
	for {
		s.handleConn()
	}
}

func greet() {}
`
	newServer = `package two

// Server serves, now many at once.
type Server struct {
	Log string
	wg  int
}

// Serve is still the loop.
func (s *Server) Serve() {
	for {
		go s.handleConn()
	}
}
`
)

func TestDeclDiff(t *testing.T) {
	dir := t.TempDir()
	old := writeFile(t, dir, "old.go", oldServer)
	new := writeFile(t, dir, "new.go", newServer)
	tests := []struct {
		decls []string
		want  string
	}{
		{[]string{"Server.Serve"}, " func (s *Server) Serve() {\n \tfor {\n-\t\ts.handleConn()\n+\t\tgo s.handleConn()\n \t}\n }\n"},
		{[]string{"Server"}, " type Server struct {\n \tLog string\n+\twg  int\n }\n"},
		{[]string{"Server", "Server.Serve"}, " type Server struct {\n \tLog string\n+\twg  int\n }\n\n func (s *Server) Serve() {\n \tfor {\n-\t\ts.handleConn()\n+\t\tgo s.handleConn()\n \t}\n }\n"},
	}
	for _, tt := range tests {
		got, err := DeclDiff(old, new, tt.decls...)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "DeclDiff(%q)", tt.decls)
	}

	_, err := DeclDiff(old, new, "greet")
	assert.ErrorContains(t, err, "new.go: no declaration greet")
	_, err = DeclDiff(old, filepath.Join(dir, "missing.go"), "Server")
	assert.Error(t, err)
}

func TestLineDiff(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"x y z", "x y z", " x  y  z"},
		{"x y", "x y z", " x  y +z"},
		{"x y z", "y", "-x  y -z"},
		{"a b", "c d", "-a -b +c +d"},
		{"", "a", "+a"},
	}
	for _, tt := range tests {
		got := strings.Join(lineDiff(strings.Fields(tt.a), strings.Fields(tt.b)), " ")
		assert.Equal(t, tt.want, got, "lineDiff(%q, %q)", tt.a, tt.b)
	}
}

// diffReadme is a README in dir with one diff block of Server.Serve from
// old.go to new.go holding body.
func diffReadme(t *testing.T, dir, body string) string {
	writeFile(t, dir, "old.go", oldServer)
	writeFile(t, dir, "new.go", newServer)
	return writeFile(t, dir, "README.md", "# x\n\n<!-- diff: old.go new.go Server.Serve -->\n```diff\n"+body+"```\n")
}

func TestCheckDiffs(t *testing.T) {
	current := " func (s *Server) Serve() {\n \tfor {\n-\t\ts.handleConn()\n+\t\tgo s.handleConn()\n \t}\n }\n"
	tests := []struct {
		name   string
		readme func(dir string) string
		check  bool
		want   string
	}{
		{"current", func(dir string) string { return diffReadme(t, dir, current) }, true, ""},
		{"stale", func(dir string) string { return diffReadme(t, dir, strings.Replace(current, "go s.", "s.", 1)) },
			true, "README.md:4: diff block is not what old.go → new.go looks like now"},
		{"not checked", func(dir string) string { return diffReadme(t, dir, current) },
			false, "README.md:4: diff block is not checked: call CheckDiffs"},
		{"no comment", func(dir string) string { return writeFile(t, dir, "README.md", "```diff\n+x\n```\n") },
			false, "README.md:1: diff block has no <!-- diff: OLD NEW DECL... --> line before it"},
		{"unknown declaration", func(dir string) string {
			writeFile(t, dir, "old.go", oldServer)
			writeFile(t, dir, "new.go", newServer)
			return writeFile(t, dir, "README.md", "<!-- diff: old.go new.go Nope -->\n```diff\n```\n")
		}, true, "old.go: no declaration Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.readme(t.TempDir())
			f := fake.Run(t, func(tb testing.TB) {
				r := LoadReadme(tb, path)
				if tt.check {
					r.CheckDiffs(tb)
				}
			})
			if tt.want == "" {
				assert.Empty(t, f.Report())
			} else {
				assert.Contains(t, f.Report(), tt.want)
			}
		})
	}
}

func TestUpdateDiffs(t *testing.T) {
	dir := t.TempDir()
	path := diffReadme(t, dir, "+stale\n")
	n, err := UpdateDiffs(path)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	f := fake.Run(t, func(tb testing.TB) { LoadReadme(tb, path).CheckDiffs(tb) })
	assert.Empty(t, f.Report(), "the rewritten block passes the check")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "# x\n\n<!-- diff: old.go new.go Server.Serve -->\n```diff\n func"), "the rest of the README is kept:\n%s", data)
	assert.True(t, strings.HasSuffix(string(data), " }\n```\n"), "the rest of the README is kept:\n%s", data)

	n, err = UpdateDiffs(path)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a current block is left alone")
}
