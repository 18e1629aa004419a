package coursecheck

// What changed from one chapter to the next, shown as a diff of the
// declarations that changed, and checked: a README's ```diff block is
// preceded by a line that says where it comes from,
//
//	<!-- diff: ../02-echo/server.go server.go Server.Serve -->
//
// (the old file, the new file, both relative to the README, then the
// declarations), and CheckDiffs fails when the block is not what DeclDiff
// makes of those files today. scripts/chapter-diff prints a block, or
// rewrites every block of a README (-w).

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var diffComment = regexp.MustCompile(`^<!-- diff: (\S+) (\S+) ([\w. ]+) -->$`)

// diffBlock is a ```diff block of a README and what it is a diff of.
type diffBlock struct {
	*block
	old, new string   // the files, relative to the README
	decls    []string // the declarations
}

// DeclDiff returns how the declarations named decls changed from the Go file
// old to the Go file new: every line of each, in order, marked "-" (only in
// old), "+" (only in new) or " " (in both), the declarations separated by a
// blank line. A name is a function ("Fetch"), a method ("Server.Serve") or a
// type ("Server"). Doc comments are left out; comments inside are kept.
func DeclDiff(old, new string, decls ...string) (string, error) {
	var out strings.Builder
	for i, name := range decls {
		a, err := declLines(old, name)
		if err != nil {
			return "", err
		}
		b, err := declLines(new, name)
		if err != nil {
			return "", err
		}
		if i > 0 {
			out.WriteString("\n")
		}
		for _, line := range lineDiff(a, b) {
			out.WriteString(strings.TrimRight(line, " \t") + "\n")
		}
	}
	return out.String(), nil
}

// declLines returns the lines of the declaration name in the Go file at
// path, without its doc comment.
func declLines(path, name string) ([]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	for _, d := range f.Decls {
		var node ast.Node
		switch d := d.(type) {
		case *ast.FuncDecl:
			if funcName(d) == name {
				node = d
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				if ts, ok := spec.(*ast.TypeSpec); ok && ts.Name.Name == name {
					node = d
				}
			}
		}
		if node != nil {
			start := fset.Position(node.Pos()).Offset
			end := fset.Position(node.End()).Offset
			return strings.Split(string(src[start:end]), "\n"), nil
		}
	}
	return nil, fmt.Errorf("%s: no declaration %s", path, name)
}

// funcName returns "Recv.Name" for a method, "Name" for a function.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + d.Name.Name
	}
	return d.Name.Name
}

// lineDiff returns a and b merged along their longest common subsequence of
// lines: common lines marked " ", lines only in a "-", lines only in b "+",
// and where both change at one place, a's lines first.
func lineDiff(a, b []string) []string {
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, " "+a[i])
			i, j = i+1, j+1
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "-"+a[i])
			i++
		default:
			out = append(out, "+"+b[j])
			j++
		}
	}
	return out
}

// CheckDiffs fails t for every ```diff block of the README that is not what
// DeclDiff makes today of the files and declarations its comment names, and
// shows the block as it should be.
func (r *Readme) CheckDiffs(t testing.TB) {
	t.Helper()
	dir := filepath.Dir(r.file)
	for _, d := range r.diffs {
		d.checked = true
		want, err := DeclDiff(filepath.Join(dir, d.old), filepath.Join(dir, d.new), d.decls...)
		if err != nil {
			t.Errorf("%s:%d: diff block: %v", r.path, d.line, err)
			continue
		}
		if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(d.text, "\n")); diff != "" {
			t.Errorf("%s:%d: diff block is not what %s → %s looks like now (-now +README):\n%s\nRun scripts/chapter-diff -w %s, or put this in the block:\n%s",
				r.path, d.line, d.old, d.new, diff, r.path, want)
		}
	}
}

// UpdateDiffs rewrites every ```diff block of the README at path to what
// DeclDiff makes of the files and declarations its comment names, and
// reports how many blocks changed.
func UpdateDiffs(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(path)
	lines := strings.Split(string(data), "\n")
	var out []string
	changed := 0
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if lines[i] != "```diff" {
			continue
		}
		var m []string
		if i > 0 {
			m = diffComment.FindStringSubmatch(lines[i-1])
		}
		if m == nil {
			return 0, fmt.Errorf("%s:%d: diff block has no <!-- diff: OLD NEW DECL... --> line before it", path, i+1)
		}
		want, err := DeclDiff(filepath.Join(dir, m[1]), filepath.Join(dir, m[2]), strings.Fields(m[3])...)
		if err != nil {
			return 0, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		var old []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			old = append(old, lines[i])
		}
		body := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
		if !slices.Equal(old, body) {
			changed++
		}
		out = append(out, body...)
		if i < len(lines) {
			out = append(out, lines[i]) // the closing fence
		}
	}
	if changed > 0 {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			return 0, err
		}
	}
	return changed, nil
}
