package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fokkerplanck/fokker/cli"
	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/grid"
)

// The reliability contract of `fokker run` (docs/format.md, "Writing, SWMR
// and crashes"): a kill at any moment leaves at the output path either no
// file or one that h5py and fokker open, holding every snapshot reported
// as written, exactly as an uninterrupted run writes it; `fokker run
// --resume` completes such a file into exactly the file of an uninterrupted
// run; bad or damaged input files give a clear error, never a crash; a
// failing computation or a full disk stops the run with a clear error and
// keeps the snapshots written so far.
//
// "Exactly" means bit for bit: a resumed run takes the same steps with the
// same arithmetic as an uninterrupted one (the CLI runs the stepper from
// snapshot to snapshot and stores its history with each, see cli/run.go),
// so every comparison below is exact equality of float64 values.

// reliabilitySpec is a 2-D run with an [exact] series, 41 snapshots and 200
// BDF2 steps: about 0.3 s for the binary, so that kills at random moments
// land in every phase (start-up, setup, stepping, appends, close).
const reliabilitySpec = `title = "reliability"
[grid]
axes = ["x", "y"]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [40, 40]

[model]
drift = ["-x + 0.5*y", "-y - 0.5*x"]
diffusion = [["0.5", "0.1"], ["0.1", "0.4"]]

[initial]
gaussian = { mean = [1.0, 0.0], cov = [[0.1, 0.0], [0.0, 0.1]] }

[exact]
density = "exp(-(x^2 + y^2)/(1 + t))"

[time]
end = 1.0
dt = 0.005
method = "bdf2"
snapshots = 41
`

func writeSpec(t testing.TB, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshotLine is what --log-snapshots prints once a snapshot is on disk.
var snapshotLine = regexp.MustCompile(`(?m)^snapshot (\d+) t=(\S+) written$`)

// reportedSnapshots returns one more than the highest snapshot index that
// stderr reports as written (0 if none), checking that the reports are
// consecutive.
func reportedSnapshots(t testing.TB, stderr string) int {
	t.Helper()
	n := 0
	for i, m := range snapshotLine.FindAllStringSubmatch(stderr, -1) {
		k, _ := strconv.Atoi(m[1])
		if i > 0 && k != n {
			t.Errorf("snapshot reports out of order: %d after %d\n%s", k, n-1, stderr)
		}
		n = k + 1
	}
	return n
}

// sameSnapshots checks that the first n snapshots of got are those of want,
// bit for bit: times, densities, moments and /exact rows.
func sameSnapshots(t testing.TB, what string, got, want *data.File, n int) {
	t.Helper()
	if got.Snapshots() < n || want.Snapshots() < n {
		t.Errorf("%s: %d and %d snapshots, want at least %d", what, got.Snapshots(), want.Snapshots(), n)
		return
	}
	var a, b []float64
	var err error
	for i := 0; i < n; i++ {
		if got.Times()[i] != want.Times()[i] {
			t.Errorf("%s: time %d is %v, want %v", what, i, got.Times()[i], want.Times()[i])
		}
		if a, err = got.Density(a, i); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if b, err = want.Density(b, i); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s: density of snapshot %d differs (max |diff| %.3g)", what, i, maxDiff(a, b))
		}
		ma, err := got.Moments(i)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		mb, _ := want.Moments(i)
		if ma.Mass != mb.Mass || !slices.Equal(ma.Mean, mb.Mean) || !slices.Equal(ma.Cov, mb.Cov) {
			t.Errorf("%s: moments of snapshot %d differ", what, i)
		}
	}
	_, ea, erra := got.Dataset("/exact")
	_, eb, errb := want.Dataset("/exact")
	if (erra == nil) != (errb == nil) {
		t.Errorf("%s: /exact: %v vs %v", what, erra, errb)
	} else if erra == nil {
		m := n * got.Len()
		if len(ea) < m || !slices.Equal(ea[:m], eb[:m]) {
			t.Errorf("%s: /exact rows differ", what)
		}
	}
}

func maxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// sameFile checks that got holds the same complete run as want: every
// snapshot, and the checkpoint of the last one.
func sameFile(t testing.TB, what, got, want string) {
	t.Helper()
	fg, err := data.Open(got)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer fg.Close()
	fw, err := data.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	if fg.Snapshots() != fw.Snapshots() {
		t.Errorf("%s: %d snapshots, want %d", what, fg.Snapshots(), fw.Snapshots())
	}
	sameSnapshots(t, what, fg, fw, min(fg.Snapshots(), fw.Snapshots()))
	cg, err := fg.Checkpoint()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	cw, err := fw.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if cg.Time != cw.Time || cg.Steps != cw.Steps || cg.Dt != cw.Dt || cg.N != cw.N || cg.PastDt != cw.PastDt ||
		!slices.Equal(cg.Past[0], cw.Past[0]) || !slices.Equal(cg.Past[1], cw.Past[1]) {
		t.Errorf("%s: checkpoint %v %v %v %v %v differs from %v %v %v %v %v", what, cg.Time, cg.Steps, cg.Dt, cg.N, cg.PastDt, cw.Time, cw.Steps, cw.Dt, cw.N, cw.PastDt)
	}
}

// process is the binary running in the background, its stderr collected.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

func startBinary(t testing.TB, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := pipe.Read(b)
			p.mu.Lock()
			p.stderr.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				close(p.done)
				return
			}
		}
	}()
	return p
}

// wait waits for the process and all of its stderr; it reports whether
// SIGKILL ended it, and its exit code otherwise.
func (p *process) wait() (killed bool, code int, stderr string) {
	<-p.done
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal() == syscall.SIGKILL, -1, p.stderr.String()
		}
	}
	return false, p.cmd.ProcessState.ExitCode(), p.stderr.String()
}

// hiddenTemporary matches the temporary files of unpublished outputs.
var hiddenTemporary = regexp.MustCompile(`^\.out\.h5\.\d+\.tmp$`)

// TestKillAnywhere kills the binary with SIGKILL at random moments (seeded
// delays) during `fokker run` and `fokker run --resume`, at least 50 times,
// in chains: a run is killed, resumed, killed again, …, until a resumed run
// completes. After every kill the output path holds no file (only when no
// snapshot was ever reported) or a file that data.Open reads in which
// every complete snapshot, and so every reported one, equals the snapshot
// of an uninterrupted run, bit for bit; every completed chain gives exactly
// the uninterrupted file. A copy of each killed file is then checked with
// h5py (SWMR mode), and, after data.Recover, with a plain h5py open, in two
// Python processes for all of them.
func TestKillAnywhere(t *testing.T) {
	bin := buildFokker(t)
	requireH5py(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "kill.toml", reliabilitySpec)
	ref := filepath.Join(dir, "ref.h5")
	start := time.Now()
	if out, err := exec.Command(bin, "-q", "run", spec, "-o", ref).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	runTime := time.Since(start)
	refFile := openFile(t, ref)
	t.Logf("reference run: %v, %d snapshots", runTime, refFile.Snapshots())

	// 100 kills take about 8 s on two cores; a loaded machine may stop at
	// the deadline with fewer, but not fewer than 50.
	const wantKills, minKills = 100, 50
	rnd := rand.New(rand.NewPCG(2025, 11))
	out := filepath.Join(dir, "out.h5")
	type killed struct {
		path string
		n    int // complete snapshots (data.Open)
	}
	var copies []killed
	kills, chains, guaranteed := 0, 0, 0
	noFile, emptyFile, inResume := 0, 0, 0
	deadline := time.Now().Add(40 * time.Second)
	for (kills < wantKills && time.Now().Before(deadline)) || exists(out) {
		args := []string{"-q", "run", "--log-snapshots", spec, "-o", out}
		resume := exists(out)
		if resume {
			args = []string{"-q", "run", "--log-snapshots", "--resume", out}
		}
		// A fifth of the kills in the first 40 ms (start-up, setup and the
		// switch to SWMR mode); the others anywhere in a run. Once enough
		// kills are done, let the chain finish.
		delay := time.Duration(rnd.Float64() * float64(runTime) * 1.1)
		if rnd.IntN(5) == 0 {
			delay = time.Duration(rnd.Float64() * float64(40*time.Millisecond))
		}
		if kills >= wantKills || time.Now().After(deadline) {
			delay = time.Minute
		}
		p := startBinary(t, bin, args...)
		select {
		case <-p.done:
		case <-time.After(delay):
			p.cmd.Process.Signal(syscall.SIGKILL)
		}
		wasKilled, code, stderr := p.wait()
		reported := reportedSnapshots(t, stderr)
		if !wasKilled {
			if code != 0 {
				t.Fatalf("run %v ended with exit %d before the kill:\n%s", args, code, stderr)
			}
			sameFile(t, fmt.Sprintf("chain %d (completed by %v)", chains, args[3:]), out, ref)
			os.Remove(out)
			guaranteed = 0
			chains++
			continue
		}
		kills++
		if resume {
			inResume++
		}
		guaranteed = max(guaranteed, reported)
		for _, name := range entries(t, dir) {
			if name != "kill.toml" && name != "ref.h5" && name != "out.h5" && !hiddenTemporary.MatchString(name) && !strings.HasPrefix(name, "killed-") {
				t.Errorf("kill %d: stray file %s", kills, name)
			}
			if hiddenTemporary.MatchString(name) {
				os.Remove(filepath.Join(dir, name)) // left by a kill during setup
			}
		}
		f, err := data.Open(out)
		if errors.Is(err, os.ErrNotExist) {
			if guaranteed > 0 || resume {
				t.Fatalf("kill %d (after %v, resume %v): no file, but %d snapshots were reported", kills, delay, resume, guaranteed)
			}
			noFile++
			continue
		}
		if err != nil {
			t.Fatalf("kill %d (after %v, resume %v): %v", kills, delay, resume, err)
		}
		what := fmt.Sprintf("kill %d (after %v, resume %v, %d reported)", kills, delay, resume, guaranteed)
		if f.Snapshots() < guaranteed {
			t.Errorf("%s: %d complete snapshots", what, f.Snapshots())
		}
		sameSnapshots(t, what, f, refFile, f.Snapshots())
		n := f.Snapshots()
		f.Close()
		if n == 0 {
			emptyFile++
		}
		guaranteed = n
		cp := filepath.Join(dir, fmt.Sprintf("killed-%03d.h5", kills))
		copyFile(t, out, cp)
		copies = append(copies, killed{cp, n})
		if n == refFile.Snapshots() {
			// Killed after its last snapshot: the chain is complete.
			sameFile(t, what, out, ref)
			os.Remove(out)
			guaranteed = 0
			chains++
		}
	}
	t.Logf("%d kills (%d of them resumed runs; %d left no file, %d a file without snapshots) in %d completed chains, %v",
		kills, inResume, noFile, emptyFile, chains, time.Since(start))
	if kills < minKills {
		t.Fatalf("only %d kills in 40 s, want at least %d", kills, minKills)
	}

	// h5py: in SWMR mode as left, then plainly after data.Recover; one
	// Python process for each pass over all the files.
	type pyFile struct {
		Path string `json:"path"`
		N    int    `json:"n"`
	}
	var list []pyFile
	for _, c := range copies {
		list = append(list, pyFile{c.path, c.n})
	}
	js, _ := json.Marshal(list)
	check := func(swmr bool) {
		t.Helper()
		mode := `h5py.File(p, "r")`
		if swmr {
			mode = `h5py.File(p, "r", libver="latest", swmr=True)`
		}
		script := fmt.Sprintf(`
import json, sys, h5py, numpy as np
files = json.loads(sys.argv[1])
ref = h5py.File(sys.argv[2], "r")
bad = []
for e in files:
    p, want = e["path"], e["n"]
    try:
        with %s as f:
            t = f["time"][:]
            n = len(t)
            while n > 0 and np.isnan(t[n - 1]):
                n -= 1
            if n != want:
                bad.append("%%s: %%d complete snapshots, Go read %%d" %% (p, n, want))
            for i in range(n):
                if t[i] != ref["time"][i] or not np.array_equal(f["density"][i], ref["density"][i]):
                    bad.append("%%s: snapshot %%d differs" %% (p, i))
                    break
    except Exception as ex:
        bad.append("%%s: %%s" %% (p, ex))
print("\n".join(bad) if bad else "ok %%d" %% len(files))
`, mode)
		got, err := exec.Command(python, "-c", script, string(js), ref).CombinedOutput()
		if err != nil || string(got) != fmt.Sprintf("ok %d\n", len(list)) {
			t.Errorf("h5py (swmr=%v): %v\n%s", swmr, err, got)
		}
	}
	check(true)
	for _, c := range copies {
		if err := data.Recover(c.path); err != nil {
			t.Errorf("Recover: %v", err)
		}
	}
	check(false)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// copyFile copies src to dst.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func entries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// python is the interpreter with the Debian h5py.
const python = "/usr/bin/python3"

func requireH5py(t testing.TB) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import h5py, numpy").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import h5py (%v: %s): run `make test`, which installs python3-h5py", python, err, out)
	}
}

// stopAfter runs the command line in-process and interrupts it (as Ctrl-C
// does) once it reports snapshot k as written: the run stops before its
// next step, with exit status 130 and snapshots 0…k in the file.
func stopAfter(t testing.TB, k int, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &watchWriter{want: fmt.Sprintf("snapshot %d ", k), cancel: cancel}
	var out bytes.Buffer
	code := cli.Main(ctx, append([]string{"-q"}, append(args, "--log-snapshots")...), &out, w)
	return code, w.buf.String()
}

// watchWriter collects what is written to it and calls cancel once it
// holds want.
type watchWriter struct {
	buf    bytes.Buffer
	want   string
	cancel func()
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.cancel()
	}
	return len(p), nil
}

// TestResumeIdentical interrupts runs of every time method, fixed and
// adaptive steps, time-dependent coefficients and explicit output times
// after some snapshot, resumes them (twice for some), and checks that the
// result is the file of an uninterrupted run, bit for bit, checkpoint
// included.
func TestResumeIdentical(t *testing.T) {
	small := strings.Replace(reliabilitySpec, "cells = [40, 40]", "cells = [24, 20]", 1)
	small = strings.Replace(small, "snapshots = 41", "snapshots = 11", 1)
	cases := []struct {
		name  string
		edits [][2]string
		stops []int // snapshots after which to interrupt, in turn
	}{
		{"bdf2", nil, []int{3, 7}},
		{"euler", [][2]string{{`method = "bdf2"`, `method = "euler"`}}, []int{4}},
		{"cn", [][2]string{{`method = "bdf2"`, `method = "cn"`}}, []int{0, 5}},
		{"bdf2 adaptive", [][2]string{{"dt = 0.005", "adaptive = true\ntolerance = 1e-5"}}, []int{2, 8}},
		{"euler adaptive", [][2]string{{"dt = 0.005", "adaptive = true\ntolerance = 1e-4"}, {`method = "bdf2"`, `method = "euler"`}}, []int{5}},
		{"time-dependent drift", [][2]string{{`drift = ["-x + 0.5*y", "-y - 0.5*x"]`, `drift = ["-x + 0.5*y*cos(3*t)", "-y - 0.5*x"]`}}, []int{6}},
		{"explicit times", [][2]string{{"snapshots = 11", "times = [0.07, 0.3, 0.31, 0.9]"}}, []int{0, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			text := small
			for _, e := range c.edits {
				if !strings.Contains(text, e[0]) {
					t.Fatalf("spec has no %q", e[0])
				}
				text = strings.Replace(text, e[0], e[1], 1)
			}
			spec := writeSpec(t, dir, "spec.toml", text)
			ref := filepath.Join(dir, "ref.h5")
			mustRun(t, "-q", "run", spec, "-o", ref)
			out := filepath.Join(dir, "out.h5")
			code, stderr := stopAfter(t, c.stops[0], "run", spec, "-o", out)
			if code != cli.ExitInterrupted {
				t.Fatalf("interrupted run: exit %d\n%s", code, stderr)
			}
			for i, k := range c.stops {
				f := openFile(t, out)
				if f.Snapshots() != k+1 {
					t.Errorf("interrupted after snapshot %d: %d snapshots", k, f.Snapshots())
				}
				f.Close()
				if i+1 < len(c.stops) {
					code, stderr = stopAfter(t, c.stops[i+1], "run", "--resume", out)
					if code != cli.ExitInterrupted {
						t.Fatalf("interrupted resume: exit %d\n%s", code, stderr)
					}
				}
			}
			code, stdout, stderr := fokker(t, "run", "--resume", out, "--log-snapshots")
			if code != 0 {
				t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
			}
			last := c.stops[len(c.stops)-1]
			if first := snapshotLine.FindStringSubmatch(stderr); first == nil || first[1] != strconv.Itoa(last+1) {
				t.Errorf("resume reported %q first, want snapshot %d", first, last+1)
			}
			if !strings.Contains(stdout, fmt.Sprintf("resumed     from snapshot %d", last)) {
				t.Errorf("report does not say where the run resumed:\n%s", stdout)
			}
			sameFile(t, c.name, out, ref)
		})
	}
}

// TestResumeRefusals checks that `fokker run --resume` refuses, with exit
// status 2 and a clear message, what it cannot continue, and leaves the
// file as it was.
func TestResumeRefusals(t *testing.T) {
	dir := t.TempDir()
	spec := writeSpec(t, dir, "spec.toml", goodSpec)
	done := filepath.Join(dir, "done.h5")
	mustRun(t, "-q", "run", spec, "-o", done)
	steady := filepath.Join(dir, "steady.h5")
	mustRun(t, "-q", "steady", spec, "-o", steady)

	// Files a fokker run could have written, but with a spec that no longer
	// parses, one of another grid, or other times.
	g, err := grid.New(grid.Uniform("x", -2, 2, 16), grid.Uniform("y", -2, 2, 16))
	if err != nil {
		t.Fatal(err)
	}
	forged := func(name, specText string, times []float64) string {
		path := filepath.Join(dir, name)
		w, err := data.NewWriter(path, g, data.WithHeader(data.Header{Spec: specText}))
		if err != nil {
			t.Fatal(err)
		}
		p := make([]float64, g.Len())
		for i := range p {
			p[i] = 1.0 / 16
		}
		for _, tm := range times {
			if err := w.Append(tm, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badSpec := forged("badspec.h5", strings.Replace(goodSpec, "cells = [16, 16]", "cells = [16, 16", 1), []float64{0})
	invalid := forged("invalid.h5", strings.Replace(goodSpec, `drift = ["-x", "-y"]`, `drift = ["-x", "-z"]`, 1), []float64{0})
	otherGrid := forged("othergrid.h5", strings.Replace(goodSpec, "cells = [16, 16]", "cells = [16, 8]", 1), []float64{0})
	otherTimes := forged("othertimes.h5", goodSpec, []float64{0, 0.04})
	noSpec := forged("nospec.h5", "", []float64{0})

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--resume", done}, "cannot resume " + done + ": the run is complete: all 3 snapshots, up to t=0.1, are in the file"},
		{[]string{"run", "--resume", steady}, "stationary density"},
		{[]string{"run", "--resume", badSpec}, "the spec stored in it does not parse: " + badSpec + "[spec]:8:"},
		{[]string{"run", "--resume", invalid}, `the spec stored in it is not valid: ` + invalid + `[spec]:9: model.drift[1]: unknown variable "z"`},
		{[]string{"run", "--resume", otherGrid}, "its grid has [16 16] cells, its spec [16 8]"},
		{[]string{"run", "--resume", otherTimes}, "snapshot 1 is at t=0.04, its spec puts it at t=0.05"},
		{[]string{"run", "--resume", noSpec}, "no spec"},
		{[]string{"run", "--resume", filepath.Join(dir, "missing.h5")}, "no such file"},
		{[]string{"run", "--resume"}, "--resume takes one argument"},
		{[]string{"run", "--resume", spec, done}, "--resume takes one argument"},
		{[]string{"run", "--resume", done, "-o", filepath.Join(dir, "x.h5")}, "-o/--output cannot be used"},
	} {
		before := fileSum(t, c.args[len(c.args)-1])
		code, _, stderr := fokker(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, stderr, c.want)
		}
		if after := fileSum(t, c.args[len(c.args)-1]); after != before {
			t.Errorf("%v: the file changed", c.args)
		}
	}
}

// fileSum returns the contents of path as a string ("" if unreadable).
func fileSum(t testing.TB, path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestResumeLiveAndOld checks that --resume refuses a file a running fokker
// writes, and continues a file of an older fokker (no /checkpoint) with a
// fresh start of the stepper, within the time discretisation error.
func TestResumeLiveAndOld(t *testing.T) {
	bin := buildFokker(t)
	requireH5py(t)
	dir := t.TempDir()
	long := strings.Replace(goodSpec, "end = 0.1\ndt = 0.01\nsnapshots = 3", "end = 100.0\ndt = 0.001\nsnapshots = 50001", 1)
	spec := writeSpec(t, dir, "long.toml", long)
	out := filepath.Join(dir, "live.h5")
	p := startBinary(t, bin, "run", spec, "-o", out, "--log-snapshots")
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		n := reportedSnapshots(t, p.stderr.String())
		p.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			t.Fatal("the live run wrote no snapshot in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, _, stderr := fokker(t, "run", "--resume", out)
	if code != 2 || !strings.Contains(stderr, "a running process is writing it") {
		t.Errorf("resume of a live file: exit %d, %q", code, stderr)
	}
	f := openFile(t, out)
	if f.State() != data.Writing {
		t.Errorf("live file: state %v", f.State())
	}
	f.Close()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait()
	f = openFile(t, out)
	if f.State() != data.Crashed {
		t.Errorf("killed file: state %v", f.State())
	}
	f.Close()
	code, stdout, _ := fokker(t, "inspect", out, "--spec=false")
	if code != 0 || !strings.Contains(stdout, "snapshots ") {
		t.Errorf("inspect of a killed file: exit %d\n%s", code, stdout)
	}

	// An older fokker's file: a run interrupted after snapshot 4 whose
	// /checkpoint is removed.
	small := strings.Replace(reliabilitySpec, "cells = [40, 40]", "cells = [24, 20]", 1)
	small = strings.Replace(small, "snapshots = 41", "snapshots = 11", 1)
	spec = writeSpec(t, dir, "small.toml", small)
	ref := filepath.Join(dir, "ref.h5")
	mustRun(t, "-q", "run", spec, "-o", ref)
	half := filepath.Join(dir, "half.h5")
	mustRun(t, "-q", "run", writeSpec(t, dir, "half.toml", strings.Replace(small, "dt = 0.005", "dt = 0.0025", 1)), "-o", half)
	old := filepath.Join(dir, "old.h5")
	if code, stderr := stopAfter(t, 4, "run", spec, "-o", old); code != cli.ExitInterrupted {
		t.Fatalf("interrupted run: exit %d\n%s", code, stderr)
	}
	if out, err := exec.Command(python, "-c", `import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    del f["checkpoint"]`, old).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	code, stdout, stderr = fokker(t, "run", "--resume", old)
	if code != 0 || !strings.Contains(stderr, "no checkpoint") || !strings.Contains(stderr, "starts afresh at t=0.4") {
		t.Fatalf("resume without checkpoint: exit %d\n%s%s", code, stdout, stderr)
	}
	// The restarted stepper (BDF2 with its start-up substeps) agrees with
	// the uninterrupted run to the accuracy of the time discretisation:
	// the difference must stay below the time discretisation error of the
	// run itself, measured as its distance to the run with dt halved.
	fo, fr, fh := openFile(t, old), openFile(t, ref), openFile(t, half)
	g, _ := fr.Grid()
	for i := 5; i < fr.Snapshots(); i++ {
		po, _ := fo.Density(nil, i)
		pr, _ := fr.Density(nil, i)
		ph, _ := fh.Density(nil, i)
		diff, errT := l1(g, po, pr), l1(g, pr, ph)
		if !(diff <= errT) || diff == 0 {
			t.Errorf("snapshot %d: L1 distance to the uninterrupted run %.3g, its time discretisation error %.3g", i, diff, errT)
		}
	}
}

func l1(g *grid.Grid, a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(a[i]-b[i]) * g.Volume(i)
	}
	return s
}

// TestHostileFiles feeds inspect, plot and run --resume files that are not
// what they should be: each must end with a one-line error naming the file
// and exit status 2, never a crash (a panic would end this test binary).
func TestHostileFiles(t *testing.T) {
	requireH5py(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "spec.toml", goodSpec)
	good := filepath.Join(dir, "good.h5")
	mustRun(t, "-q", "run", spec, "-o", good)
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	add := func(name string, content []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	add("text.h5", []byte("time,density\n0,1\n"))
	add("empty.h5", nil)
	add("signature.h5", []byte("\x89HDF\r\n\x1a\n"))
	for _, frac := range []float64{0.01, 0.1, 0.3, 0.6, 0.9, 0.999} {
		add(fmt.Sprintf("cut-%g.h5", frac), b[:int(frac*float64(len(b)))])
	}
	// Damaged global heap (the strings of the root attributes): libhdf5
	// itself crashes reading this.
	heap := bytes.Index(b, []byte("GCOL"))
	if heap < 0 {
		t.Fatal("no global heap in the file")
	}
	flipped := append([]byte(nil), b...)
	flipped[heap+16+9] ^= 0x40 // the size of the first object
	add("heap.h5", flipped)
	// Layout violations written with h5py.
	script := `
import sys, h5py, numpy as np
d = sys.argv[1]
def base(name):
    f = h5py.File(d + "/" + name, "w", libver="latest")
    f.attrs["format"] = "fokker-density"
    f.attrs["format_version"] = 1
    f.attrs["axes"] = np.array([b"x"])
    f.attrs["spec"] = "[grid]"
    f["grid/x"] = np.linspace(0.5, 3.5, 4)
    f["grid/x_edges"] = np.linspace(0, 4, 5)
    return f
with base("shape.h5") as f:
    f["time"] = np.zeros(2); f["density"] = np.zeros((2, 5)); f["mass"] = np.zeros(2); f["mean"] = np.zeros((2, 1)); f["covariance"] = np.zeros((2, 1, 1))
with base("rank.h5") as f:
    f["time"] = np.zeros((2, 2)); f["density"] = np.zeros((2, 4)); f["mass"] = np.zeros(2); f["mean"] = np.zeros((2, 1)); f["covariance"] = np.zeros((2, 1, 1))
with base("strings.h5") as f:
    f["time"] = np.array([b"a", b"b"]); f["density"] = np.zeros((2, 4)); f["mass"] = np.zeros(2); f["mean"] = np.zeros((2, 1)); f["covariance"] = np.zeros((2, 1, 1))
with base("edges.h5") as f:
    del f["grid/x_edges"]; f["grid/x_edges"] = np.array([0, 2, 1, 3, 4.0])
    f["time"] = np.zeros(1); f["density"] = np.zeros((1, 4)); f["mass"] = np.zeros(1); f["mean"] = np.zeros((1, 1)); f["covariance"] = np.zeros((1, 1, 1))
with base("nodensity.h5") as f:
    pass
with h5py.File(d + "/foreign.h5", "w") as f:
    f["x"] = np.zeros(3)
`
	if out, err := exec.Command(python, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	for _, n := range []string{"shape.h5", "rank.h5", "strings.h5", "edges.h5", "nodensity.h5", "foreign.h5"} {
		files = append(files, filepath.Join(dir, n))
	}
	files = append(files, dir) // a directory

	for _, path := range files {
		for _, args := range [][]string{
			{"inspect", path},
			{"plot", path, "-o", filepath.Join(dir, "fig.png")},
			{"run", "--resume", path},
		} {
			code, _, stderr := fokker(t, args...)
			msg := strings.TrimSpace(stderr)
			if code != 2 || !strings.HasPrefix(msg, "fokker: ") || !strings.Contains(msg, path) || strings.Contains(msg, "\n") {
				t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming the file", args, code, stderr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "fig.png")); err == nil {
		t.Error("plot wrote a figure of a bad file")
	}
}

// nanSpec has a drift that becomes NaN after t = 0.5: the operator refuses
// it when it is assembled for the first step past 0.5.
const nanSpec = `title = "NaN after t = 0.5"
[grid]
axes = ["x"]
lower = [-3.0]
upper = [3.0]
cells = [60]
[model]
drift = ["t > 0.5 ? log(-1) : -x"]
diffusion = "0.5"
[initial]
density = "exp(-x^2)"
[time]
end = 1.0
dt = 0.01
snapshots = 11
`

// TestFailureKeepsSnapshots checks that a run whose computation fails (a
// coefficient turning NaN, caught when the operator is assembled; a
// diffusion so large that the density loses its mass, caught by the
// stepper's check of each step) exits with status 1 and one line naming the
// time, the step and the place, and keeps the snapshots before the failure,
// equal to those of a run without it. Resuming such a file fails the same
// way and leaves it as it was.
func TestFailureKeepsSnapshots(t *testing.T) {
	dir := t.TempDir()
	healthy := filepath.Join(dir, "healthy.h5")
	// The same coefficients up to t = 0.5, and time-dependent too (the
	// operator is then reassembled at each time, as in the failing runs).
	mustRun(t, "-q", "run", writeSpec(t, dir, "healthy.toml", strings.Replace(nanSpec, "t > 0.5 ? log(-1)", "t > 2 ? log(-1)", 1)), "-o", healthy)
	for _, c := range []struct {
		name, old, new string
		want           []string
	}{
		{"drift NaN", "", "", []string{"step 51 at t=0.5 (dt=0.01)", "drift at (x=-2.9), t=0.51: mu[0] = NaN", "(the 6 snapshots written so far are in"}},
		{"mass lost", `drift = ["t > 0.5 ? log(-1) : -x"]`, "drift = [\"t > 2 ? log(-1) : -x\"]\ndiffusion = \"t > 0.5 ? 1e300 : 0.5\"",
			[]string{"mass became negative", "at t=0.51, step 51", "(the 6 snapshots written so far are in"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := nanSpec
			if c.old != "" {
				text = strings.Replace(strings.Replace(text, c.old, c.new, 1), "diffusion = \"0.5\"\n[initial]", "[initial]", 1)
			}
			spec := writeSpec(t, dir, "fail.toml", text)
			out := filepath.Join(dir, "fail.h5")
			code, _, stderr := fokker(t, "-q", "run", spec, "-o", out)
			msg := strings.TrimSpace(stderr)
			if code != 1 || strings.Contains(msg, "\n") {
				t.Errorf("exit %d, stderr %q; want 1 and one line", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			f := openFile(t, out)
			h := openFile(t, healthy)
			if f.Snapshots() != 6 || f.Times()[5] != 0.5 {
				t.Errorf("%d snapshots up to t=%v, want 6 up to 0.5", f.Snapshots(), f.Times())
			}
			sameSnapshots(t, c.name, f, h, 6)
			f.Close()
			code, _, stderr2 := fokker(t, "-q", "run", "--resume", out)
			if code != 1 || !strings.Contains(stderr2, c.want[0]) {
				t.Errorf("resume: exit %d, %q; want 1 and the same error", code, stderr2)
			}
			g := openFile(t, out)
			if g.Snapshots() != 6 {
				t.Errorf("after the failed resume: %d snapshots", g.Snapshots())
			}
			g.Close()
		})
	}
}

// TestDiskFull runs the binary with a file size limit (RLIMIT_FSIZE through
// prlimit: writes beyond it fail with EFBIG, as writes to a full disk fail
// with ENOSPC, and no privileges are needed) of half the size of the
// finished file: the run must stop with exit status 1 and a one-line error,
// the snapshots it reported must be in the file, exactly as in an
// uninterrupted run, readable by fokker and by h5py in SWMR mode; a resume
// without the limit then completes the file into the uninterrupted one.
func TestDiskFull(t *testing.T) {
	bin := buildFokker(t)
	requireH5py(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) not found: %v", err)
	}
	dir := t.TempDir()
	spec := writeSpec(t, dir, "spec.toml", reliabilitySpec)
	ref := filepath.Join(dir, "ref.h5")
	if out, err := exec.Command(bin, "-q", "run", spec, "-o", ref).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	fi, err := os.Stat(ref)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.h5")
	cmd := exec.Command(prlimit, fmt.Sprintf("--fsize=%d", fi.Size()/2), bin, "-q", "run", spec, "-o", out, "--log-snapshots")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	msg := strings.TrimSpace(snapshotLine.ReplaceAllString(stderr.String(), ""))
	if cmd.ProcessState.ExitCode() != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, "File too large") || !strings.Contains(msg, "snapshots written so far are in "+out) {
		t.Fatalf("run with a full disk: %v, stderr:\n%s", err, stderr.String())
	}
	reported := reportedSnapshots(t, stderr.String())
	if reported < 5 || reported > 35 {
		t.Errorf("%d snapshots reported before the disk filled up", reported)
	}
	f := openFile(t, out)
	if f.Snapshots() < reported {
		t.Errorf("%d snapshots in the file, %d reported", f.Snapshots(), reported)
	}
	fr := openFile(t, ref)
	sameSnapshots(t, "full disk", f, fr, f.Snapshots())
	n := f.Snapshots()
	f.Close()
	got, err := exec.Command(python, "-c", `import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r", libver="latest", swmr=True) as f, h5py.File(sys.argv[2], "r") as r:
    t = f["time"][:]
    n = len(t) - int(len(t) > 0 and np.isnan(t[-1]))
    print(n, all(np.array_equal(f["density"][i], r["density"][i]) for i in range(n)))
`, out, ref).CombinedOutput()
	if err != nil || string(got) != fmt.Sprintf("%d True\n", n) {
		t.Errorf("h5py on the file left by the full disk: %v\n%s", err, got)
	}
	if code, stdout, stderr := fokker(t, "-q", "run", "--resume", out); code != 0 {
		t.Fatalf("resume after the disk was freed: exit %d\n%s%s", code, stdout, stderr)
	}
	sameFile(t, "resumed after a full disk", out, ref)
}

// TestLiveReading runs the live-watching snippet of docs/python.md against
// `fokker run` itself: started before the run, it must print every snapshot
// of the run, the first of them while the run is still going.
func TestLiveReading(t *testing.T) {
	bin := buildFokker(t)
	requireH5py(t)
	doc, err := os.ReadFile(filepath.Join("..", "docs", "python.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```python live\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/python.md has no ```python live block")
	}
	const knob = "idle_timeout = 30.0"
	snippet := string(m[1])
	if !strings.Contains(snippet, knob) {
		t.Fatalf("live snippet has no %q line", knob)
	}
	snippet = strings.Replace(snippet, knob, "idle_timeout = 2.0", 1)
	// Python needs a while to import h5py: say when it is watching.
	snippet = "import h5py, numpy\nprint(\"watching\", flush=True)\n" + snippet

	dir := t.TempDir()
	// About 0.7 s: 2400 BDF2 steps on 40x40 cells, 13 snapshots; the
	// snippet looks for new snapshots every 0.2 s.
	text := strings.Replace(reliabilitySpec, "end = 1.0\ndt = 0.005", "end = 6.0\ndt = 0.0025", 1)
	text = strings.Replace(text, "snapshots = 41", "snapshots = 13", 1)
	spec := writeSpec(t, dir, "spec.toml", text)
	py := exec.Command(python, "-c", snippet)
	py.Dir = dir
	pyOut, err := py.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var pyErr bytes.Buffer
	py.Stderr = &pyErr
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	type line struct {
		text string
		at   time.Time
	}
	lines := make(chan line, 100)
	go func() {
		sc := bufio.NewScanner(pyOut)
		for sc.Scan() {
			lines <- line{sc.Text(), time.Now()}
		}
		close(lines)
	}()
	if l, ok := <-lines; !ok || l.text != "watching" {
		py.Wait()
		t.Fatalf("live snippet did not start: %q\n%s", l.text, pyErr.String())
	}
	run := exec.Command(bin, "-q", "run", spec, "-o", filepath.Join(dir, "run.h5"))
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	ended := time.Now()
	var got []line
	for l := range lines {
		got = append(got, l)
	}
	if err := py.Wait(); err != nil {
		t.Fatalf("live snippet: %v\n%s", err, pyErr.String())
	}
	f := openFile(t, filepath.Join(dir, "run.h5"))
	var want []string
	for i, tm := range f.Times() {
		m, _ := f.Moments(i)
		want = append(want, fmt.Sprintf("snapshot %d: t = %s, mass = %.6f", i, strconv.FormatFloat(tm, 'g', 6, 64), m.Mass))
	}
	var texts []string
	for _, l := range got {
		texts = append(texts, l.text)
	}
	if !slices.Equal(texts, want) {
		t.Errorf("live snippet printed\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if len(got) == 0 || !got[0].at.Before(ended) {
		t.Errorf("the live snippet saw no snapshot while the run was going")
	}
}

// inspect recovers a file whose writer was killed and says so.
func TestInspectRecovers(t *testing.T) {
	bin := buildFokker(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "long.toml")
	text := strings.Replace(goodSpec, "cells = [16, 16]", "cells = [64, 64]", 1)
	text = strings.Replace(text, "end = 0.1\ndt = 0.01\nsnapshots = 3", "end = 100.0\ndt = 0.001\nsnapshots = 50001", 1)
	os.WriteFile(spec, []byte(text), 0o644)
	out := filepath.Join(dir, "long.h5")
	cmd := exec.Command(bin, "run", spec, "-o", out, "--log-snapshots")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	got := ""
	for !strings.Contains(got, "snapshot 2 ") {
		n, err := stderr.Read(buf)
		if err != nil {
			t.Fatalf("run ended: %v %q", err, got)
		}
		got += string(buf[:n])
	}
	cmd.Process.Kill()
	cmd.Wait()
	code, stdout, errs := fokker(t, "inspect", out)
	if code != 0 || !strings.Contains(stdout, "state       recovered") {
		t.Fatalf("inspect: exit %d\n%s\n%s", code, stdout, errs)
	}
	f := openFile(t, out)
	if f.State() != data.Closed || f.Snapshots() < 3 {
		t.Errorf("after inspect: state %v, %d snapshots", f.State(), f.Snapshots())
	}
}
