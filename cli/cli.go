package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/spec"
)

// Version is fokker's version, printed by --version and written into files.
var Version = "0.1.0"

// Exit codes.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitBadInput    = 2
	ExitInterrupted = 130
)

// exitError carries an exit code with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as the user's input being wrong (exit 2).
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{ExitBadInput, err}
}

// failed marks err as the computation failing (exit 1).
func failed(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{ExitFailed, err}
}

// errInterrupted is returned when Ctrl-C stopped a run.
var errInterrupted = &exitError{ExitInterrupted, errors.New("interrupted")}

// env is what every command gets: output streams and global flags.
type env struct {
	ctx      context.Context
	stdout   io.Writer
	stderr   io.Writer
	quiet    bool
	progress bool
	threads  int
	args     []string
}

func (e *env) printf(format string, a ...any) {
	if !e.quiet {
		fmt.Fprintf(e.stdout, format, a...)
	}
}

// versionString returns the version with the VCS revision when known.
func versionString() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

// Main runs the command line args (without the program name) and returns
// the exit code. ctx cancellation (Ctrl-C) stops runs at the next step.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, args: args}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitFailed
	var ee *exitError
	var se *spec.Error
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &se):
		code = ExitBadInput
	case isUsageError(err):
		code = ExitBadInput
	}
	if code == ExitInterrupted {
		fmt.Fprintln(stderr, "fokker: interrupted")
	} else {
		fmt.Fprintf(stderr, "fokker: %v\n", err)
	}
	return code
}

// usageError marks cobra's own argument and flag errors.
type usageError struct{ error }

func isUsageError(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "requires exactly"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "fokker",
		Short: "Fokker–Planck densities: solve, check against particles, export to HDF5",
		Long: `fokker computes probability densities of stochastic processes
dX = mu(X,t) dt + sqrt(2 D(X,t)) dW by solving their Fokker–Planck equation
on a grid, from a problem described in a TOML spec.

  fokker examples .                 write the built-in example specs here
  fokker run rotation2d.toml        transient solve -> rotation2d.h5
  fokker steady cir1d.toml          stationary density -> cir1d.h5
  fokker inspect rotation2d.h5      summary of a result file
  fokker plot rotation2d.h5         PNG figure of a result file`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if e.threads < 0 {
				return badInput(fmt.Errorf("--threads must be positive, got %d", e.threads))
			}
			if e.threads > 0 {
				runtime.GOMAXPROCS(e.threads)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.BoolVarP(&e.quiet, "quiet", "q", false, "print nothing but errors")
	pf.BoolVar(&e.progress, "progress", false, "show a progress bar even when stderr is not a terminal")
	pf.IntVar(&e.threads, "threads", 0, "number of threads (default: all cores)")
	root.AddCommand(
		newRunCmd(e),
		newSteadyCmd(e),
		newInspectCmd(e),
		newPlotCmd(e),
		newExamplesCmd(e),
		newValidateCmd(e),
		newBenchCmd(e),
		newSGDCmd(e),
	)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	}
	return root
}

// commandLine reconstructs the command for provenance.
func (e *env) commandLine() string {
	return "fokker " + strings.Join(e.args, " ")
}

// availableMemory returns MemAvailable from /proc/meminfo in bytes, or 0 if
// unknown.
func availableMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "MemAvailable:") {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimPrefix(l, "MemAvailable:"), "%d", &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
