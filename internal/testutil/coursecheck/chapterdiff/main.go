// Command chapterdiff prints how declarations changed from one chapter to the
// next, as a README's checked ```diff block, or rewrites those blocks.
// scripts/chapter-diff runs it:
//
//	chapter-diff OLD NEW DECL...   print the block, its comment line first
//	chapter-diff -w README.md...   rewrite every diff block of these READMEs
//
// OLD and NEW are Go files; a DECL is a function (Fetch), a method
// (Server.Serve) or a type (Server). In a README, OLD and NEW are relative to
// the README: run the first form from the chapter's directory, as in
//
//	cd 03-threaded && ../scripts/chapter-diff ../02-echo/server.go server.go Server.Serve
package main

import (
	"fmt"
	"os"
	"strings"

	"example.com/sockets/internal/testutil/coursecheck"
)

func main() {
	args := os.Args[1:]
	switch {
	case len(args) >= 2 && args[0] == "-w":
		for _, path := range args[1:] {
			n, err := coursecheck.UpdateDiffs(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "chapter-diff: %v\n", err)
				os.Exit(1)
			}
			blocks := "blocks"
			if n == 1 {
				blocks = "block"
			}
			fmt.Printf("%s: %d diff %s rewritten\n", path, n, blocks)
		}
	case len(args) >= 3 && !strings.HasPrefix(args[0], "-"):
		diff, err := coursecheck.DeclDiff(args[0], args[1], args[2:]...)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chapter-diff: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("<!-- diff: %s %s %s -->\n```diff\n%s```\n", args[0], args[1], strings.Join(args[2:], " "), diff)
	default:
		fmt.Fprintln(os.Stderr, "usage: chapter-diff OLD NEW DECL...\n       chapter-diff -w README.md...")
		os.Exit(2)
	}
}
