// Command reverse-repl drives one TCP connection by hand: dial, send, recv,
// shutdown, close, one command per line, with what each step did printed
// after it. Type help for the commands. It reads them from a terminal, with
// a prompt, or from a pipe or a file, without one; then its exit code is 1
// if any command failed.
//
// Ctrl-C stops a command that is waiting (a recv with nothing to read, a
// dial or an accept) and returns to the prompt; at the prompt it quits.
//
//	usage: reverse-repl [-addr host:port] [-echo] [-timeout duration]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	reverse "example.com/sockets/07-reverse-repl"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	code := run(signals, os.Args[1:], os.Stdin, isTerminal(os.Stdin), os.Stdout, os.Stderr)
	os.Exit(code)
}

// isTerminal reports whether f is a terminal (a character device), as
// standard input is when a person types into the program.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func run(signals <-chan os.Signal, args []string, stdin io.Reader, terminal bool, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("reverse-repl", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", reverse.DefaultAddr, "dial and listen use this `host:port` when they are given none")
	echo := flags.Bool("echo", false, "print a prompt and each command before its result, as a terminal shows a session (for input from a file)")
	timeout := flags.Duration("timeout", 0, "give up any dial, accept, send or recv that waits longer than this `duration` (default: wait until Ctrl-C)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: reverse-repl [-addr host:port] [-echo] [-timeout duration]")
		flags.PrintDefaults()
		fmt.Fprint(flags.Output(), "\n", reverse.Help)
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "reverse-repl: unexpected argument %q (type the commands, or pipe them in)\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *timeout < 0 {
		fmt.Fprintln(stderr, "reverse-repl: -timeout cannot be negative")
		return 2
	}

	repl := &reverse.REPL{Out: stdout, Err: stderr, Addr: *addr, Echo: *echo, Timeout: *timeout}
	if terminal || *echo {
		repl.Prompt = "> "
		fmt.Fprintln(stdout, `type "help" for the commands, "quit" or Ctrl-D to leave`)
	}

	// Ctrl-C interrupts the command that is running, if there is one,
	// and otherwise ends the session; SIGTERM always ends it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for sig := range signals {
			if sig == os.Interrupt && repl.Interrupt() {
				continue
			}
			cancel()
			return
		}
	}()

	err := repl.Run(ctx, stdin)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		return 130 // the shell's code for "ended by SIGINT"
	case errors.Is(err, reverse.ErrFailed):
		fmt.Fprintf(stderr, "reverse-repl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "reverse-repl: %v\n", err)
	return 1
}
