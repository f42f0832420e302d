package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/bench"
)

type benchFlags struct {
	quick   bool
	noPeer  bool
	only    string
	child   string
	timeout time.Duration
	jsonOut string
}

func newBenchCmd(e *env) *cobra.Command {
	var f benchFlags
	c := &cobra.Command{
		Use:   "bench [--quick] [--no-scipy] [--only P2]",
		Short: "Run the fixed performance problems beside their scipy/numpy peer",
		Long: `bench runs the fixed problems P1–P5 of docs/performance.md, each in a child
process (so that its peak memory is its own), and the same problems in
scipy/numpy (bench/scipy_peer.py with Debian's python3-scipy), and prints
time, iterations, error against the exact solution, cost in matrix-vector
products and peak memory side by side, with the ratios.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.child != "" {
				return benchChild(e, f.child)
			}
			return benchRun(e, f)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&f.quick, "quick", false, "small sizes only (a smoke test)")
	fl.BoolVar(&f.noPeer, "no-scipy", false, "skip the scipy/numpy peer")
	fl.StringVar(&f.only, "only", "", "comma-separated problems to run, e.g. P2,P3")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Minute, "time limit per case and side")
	fl.StringVar(&f.jsonOut, "json", "", "also write the results as JSON to this file")
	fl.StringVar(&f.child, "child", "", "internal: run one case and print JSON")
	fl.MarkHidden("child")
	return c
}

func benchCases(quick bool) []bench.Case {
	if quick {
		return []bench.Case{mk("P1", 1000, ""), mk("P2", 64, ""), mk("P2", 64, "iterative"), mk("P3", 64, "euler"), mk("P4", 10000, ""), mk("P5", 16, "")}
	}
	return []bench.Case{
		mk("P1", 1000, ""), mk("P1", 10000, ""), mk("P1", 100000, ""), mk("P1", 1000000, ""),
		mk("P2", 128, ""), mk("P2", 256, ""), mk("P2", 512, ""), mk("P2", 1024, ""),
		mk("P2", 256, "iterative"), mk("P2", 512, "iterative"), mk("P2", 1024, "iterative"),
		mk("P3", 256, "euler"), mk("P3", 256, "bdf2"),
		mk("P4", 1000000, ""),
		mk("P5", 64, ""), mk("P5", 128, ""),
	}
}

func mk(p string, n int, v string) bench.Case { return bench.Case{Problem: p, N: n, Variant: v} }

func encodeCase(c bench.Case) string { return fmt.Sprintf("%s:%d:%s", c.Problem, c.N, c.Variant) }

func decodeCase(s string) (bench.Case, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return bench.Case{}, fmt.Errorf("bad case %q", s)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return bench.Case{}, err
	}
	return bench.Case{Problem: parts[0], N: n, Variant: parts[2]}, nil
}

func benchChild(e *env, s string) error {
	c, err := decodeCase(s)
	if err != nil {
		return badInput(err)
	}
	r, err := bench.Run(c)
	if err != nil {
		return failed(err)
	}
	return json.NewEncoder(e.stdout).Encode(r)
}

// side runs one case in a child process and returns its result with the
// peak resident memory.
func side(ctx context.Context, timeout time.Duration, name string, args ...string) (bench.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out strings.Builder
	var errb strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	var r bench.Result
	if ctx.Err() == context.DeadlineExceeded {
		return r, fmt.Errorf("timed out after %v", timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return r, fmt.Errorf("%v: %s", err, msg)
	}
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		return r, fmt.Errorf("bad output %q: %v", out.String(), err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakMB = float64(ru.Maxrss) / 1024
	}
	return r, nil
}

func benchRun(e *env, f benchFlags) error {
	self, err := os.Executable()
	if err != nil {
		return failed(err)
	}
	var peer string
	if !f.noPeer {
		dir, err := os.MkdirTemp("", "fokker-bench")
		if err != nil {
			return failed(err)
		}
		defer os.RemoveAll(dir)
		peer = filepath.Join(dir, "scipy_peer.py")
		if err := os.WriteFile(peer, []byte(bench.ScipyPeer), 0o644); err != nil {
			return failed(err)
		}
		if err := exec.Command("/usr/bin/python3", "-c", "import scipy, numpy").Run(); err != nil {
			return failed(errors.New("bench: /usr/bin/python3 cannot import scipy and numpy: run `make deps` (installs python3-scipy), or use --no-scipy"))
		}
	}
	only := map[string]bool{}
	for _, p := range strings.Split(f.only, ",") {
		if p = strings.TrimSpace(strings.ToUpper(p)); p != "" {
			only[p] = true
		}
	}
	w := e.stdout
	host, _ := os.Hostname()
	fmt.Fprintf(w, "fokker %s bench on %s: %s, GOMAXPROCS %d, %s\n", versionString(), host, cpuModel(), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "%-20s %9s %9s %8s %10s %10s %6s %8s %8s %8s  %s\n", "case", "fokker s", "scipy s", "speedup", "fokker err", "scipy err", "iters", "SpMV-eq", "MB", "scipy MB", "fokker method")
	type row struct {
		Fokker bench.Result `json:"fokker"`
		Scipy  bench.Result `json:"scipy"`
		Err    string       `json:"error,omitempty"`
	}
	var rows []row
	type peerResult struct {
		r   bench.Result
		err error
	}
	peerDone := map[string]peerResult{}
	for _, c := range benchCases(f.quick) {
		if len(only) > 0 && !only[c.Problem] {
			continue
		}
		if e.ctx.Err() != nil {
			return errInterrupted
		}
		var rw row
		fr, ferr := side(e.ctx, f.timeout, self, "bench", "--child", encodeCase(c))
		rw.Fokker = fr
		var sr bench.Result
		serr := errors.New("skipped")
		if peer != "" {
			args := []string{peer, c.Problem, strconv.Itoa(c.N)}
			if c.Variant != "" && c.Variant != "iterative" {
				args = append(args, c.Variant)
			}
			// The iterative variant of fokker faces the same scipy case.
			key := strings.Join(args[1:], " ")
			if prev, ok := peerDone[key]; ok {
				sr, serr = prev.r, prev.err
			} else {
				sr, serr = side(e.ctx, f.timeout, "/usr/bin/python3", args...)
				peerDone[key] = peerResult{sr, serr}
			}
			rw.Scipy = sr
		}
		if ferr != nil {
			rw.Err = ferr.Error()
			fmt.Fprintf(w, "%-20s fokker failed: %v\n", c, ferr)
			rows = append(rows, rw)
			continue
		}
		ft, st := fr.Seconds, math64(sr.Seconds, serr)
		speed := "-"
		serrStr := "-"
		smb := "-"
		if serr == nil {
			speed = fmt.Sprintf("%.1fx", st/ft)
			if c.Problem == "P4" {
				speed = fmt.Sprintf("%.1fx", fr.Rate/sr.Rate)
			}
			serrStr = fmt.Sprintf("%.2e", sr.Error)
			smb = fmt.Sprintf("%.0f", sr.PeakMB)
		} else if peer != "" {
			serrStr = "(" + shorten(serr.Error(), 24) + ")"
		}
		stStr := "-"
		if serr == nil {
			stStr = fmt.Sprintf("%.3f", st)
		}
		method := fr.Method
		if c.Problem == "P4" {
			method = fmt.Sprintf("%.3g particle-steps/s (scipy %.3g)", fr.Rate, sr.Rate)
		}
		fmt.Fprintf(w, "%-20s %9.3f %9s %8s %10.2e %10s %6d %8.0f %8.0f %8s  %s\n", c, ft, stStr, speed, fr.Error, serrStr, fr.Iterations, fr.SpMVEq, fr.PeakMB, smb, method)
		rows = append(rows, rw)
	}
	fmt.Fprintf(w, "errors: P1 %s; P2 %s; P3 %s; P4 %s; P5 %s\n", bench.Describe["P1"], bench.Describe["P2"], bench.Describe["P3"], bench.Describe["P4"], bench.Describe["P5"])
	if f.jsonOut != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		if err := os.WriteFile(f.jsonOut, b, 0o644); err != nil {
			return badInput(err)
		}
	}
	return nil
}

func math64(v float64, err error) float64 {
	if err != nil {
		return 0
	}
	return v
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.IndexByte(l, ':'); i >= 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return runtime.GOARCH
}

var _ = io.Discard
