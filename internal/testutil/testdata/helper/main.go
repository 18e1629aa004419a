// Command helper is a tiny program for the kit's own tests (and those of
// coursecheck) to run: Build compiles it, Start and Terminal run it.
package main

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
