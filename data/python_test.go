package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fokkerplanck/fokker/grid"
)

// docBlocks returns the fenced code blocks of docs/python.md by info string:
// "python" for the static examples, "python plot", "python live", …
func docBlocks(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "python.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]string{}
	var (
		info string
		cur  []string
		in   bool
	)
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && strings.HasPrefix(trimmed, "```python"):
			in, info, cur = true, strings.TrimPrefix(trimmed, "```"), nil
		case in && trimmed == "```":
			blocks[info] = append(blocks[info], strings.Join(cur, "\n")+"\n")
			in = false
		case in:
			cur = append(cur, line)
		}
	}
	if in {
		t.Fatalf("docs/python.md: unterminated code block %q", info)
	}
	return blocks
}

// pyList formats v as a Python list literal that parses back to the same
// float64 values.
func pyList(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func pyFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// docGrid is the 2-D grid of the run the Python snippets read.
func docGrid(t testing.TB) *grid.Grid {
	g, err := grid.New(grid.Uniform("x", -2, 2, 8), grid.Uniform("y", -1, 1.5, 5))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestPythonDocs runs the ```python blocks of docs/python.md, in order, on a
// file written here, followed by checks against what was written, and checks
// what the document says of steady files.
func TestPythonDocs(t *testing.T) {
	requirePython(t)
	blocks := docBlocks(t)
	if len(blocks["python"]) < 2 || len(blocks["python plot"]) != 1 || len(blocks["python live"]) != 1 || len(blocks["python swmr-xarray"]) != 1 {
		t.Fatalf("docs/python.md: unexpected code blocks %v", func() []string {
			var k []string
			for key, b := range blocks {
				k = append(k, fmt.Sprintf("%q×%d", key, len(b)))
			}
			return k
		}())
	}

	dir := t.TempDir()
	g := docGrid(t)
	times := []float64{0, 0.25, 0.5, 1}
	w, err := NewWriter(filepath.Join(dir, "run.h5"), g, WithHeader(Header{Spec: "[grid]\n"}))
	if err != nil {
		t.Fatal(err)
	}
	var masses, meanX, varY []float64
	var last Moments
	for i, tm := range times {
		p := gaussian(g, float64(i))
		if err := w.Append(tm, p); err != nil {
			t.Fatal(err)
		}
		ComputeMoments(&last, g, p)
		masses = append(masses, last.Mass)
		meanX = append(meanX, last.Mean[0])
		varY = append(varY, last.Cov[3])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// A steady file, for what docs/python.md says of those.
	ws, err := NewWriter(filepath.Join(dir, "steady.h5"), g, WithKind(Steady))
	if err != nil {
		t.Fatal(err)
	}
	ps := gaussian(g, 0)
	if err := ws.WriteStationary(ps, 1e-9); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	var ms Moments
	ComputeMoments(&ms, g, ps)

	checks := fmt.Sprintf(`
# --- checks appended by TestPythonDocs ---
import numpy as np
assert axes == ["x", "y"], axes
assert spec == "[grid]\n", repr(spec)
np.testing.assert_array_equal(x, np.array(%s))
np.testing.assert_array_equal(x_edges, np.array(%s))
np.testing.assert_array_equal(times, np.array(%s))
assert p.shape == (8, 5), p.shape
# Σ p·V in NumPy and in Go differ by the order of additions only.
assert abs(mass - %s) <= 1e-12 * %s, mass
np.testing.assert_allclose(mean, %s, rtol=1e-12)
np.testing.assert_allclose(cov.ravel(), %s, rtol=1e-12)

assert ds["density"].dims == ("time", "x", "y"), ds["density"].dims
np.testing.assert_array_equal(ds["x"].values, np.array(%s))
np.testing.assert_array_equal(ds["y"].values, np.array(%s))
np.testing.assert_array_equal(ds["time"].values, np.array(%s))
assert float(snap["time"]) == 0.5 and snap.dims == ("x", "y"), snap
np.testing.assert_allclose(mass_t.values, %s, rtol=1e-12)
np.testing.assert_allclose(ds["mass"].values, %s, rtol=0)
np.testing.assert_allclose(mean_x.values, %s, rtol=0)
np.testing.assert_allclose(var_y.values, %s, rtol=0)
assert list(ds["axis"].values) == ["x", "y"]

st = xr.open_dataset("steady.h5", engine="h5netcdf")
assert st["stationary"].dims == ("x", "y"), st["stationary"].dims
assert st["stationary"].attrs["residual"] == 1e-9
assert st["mass"].dims == () and float(st["mass"]) == %s
assert st["mean"].dims == ("axis",) and st["covariance"].dims == ("axis", "axis2")
np.testing.assert_array_equal(st["covariance"].values.ravel(), %s)
assert "time" not in st.dims
with h5py.File("steady.h5", "r") as f:
    assert f["mass"].shape == ()
print("CHECKS OK")
`,
		pyList(g.Centres(0)), pyList(g.Edges(0)), pyList(times),
		pyFloat(last.Mass), pyFloat(last.Mass), pyList(last.Mean), pyList(last.Cov),
		pyList(g.Centres(0)), pyList(g.Centres(1)), pyList(times),
		pyList(masses), pyList(masses), pyList(meanX), pyList(varY),
		pyFloat(ms.Mass), pyList(ms.Cov))
	// The plot needs matplotlib, which `make test` does not install.
	script := strings.Join(blocks["python"], "\n")
	plot := exec.Command(python, "-c", "import matplotlib").Run() == nil
	if plot {
		script += blocks["python plot"][0]
	} else {
		t.Log("matplotlib is not installed: the plotting snippet of docs/python.md was not run")
	}
	out := runPython(t, dir, script+checks, "MPLBACKEND=Agg")
	if !strings.Contains(out, "CHECKS OK") {
		t.Fatalf("python output:\n%s", out)
	}
	t.Logf("python output:\n%s", out)
	if plot {
		if fi, err := os.Stat(filepath.Join(dir, "density.png")); err != nil || fi.Size() == 0 {
			t.Errorf("plotting snippet wrote no density.png: %v", err)
		}
	}
}

// TestPythonDocsLive runs the live-watching snippet of docs/python.md while
// this test appends snapshots.
func TestPythonDocsLive(t *testing.T) {
	requirePython(t)
	block := docBlocks(t)["python live"][0]
	const knob = "idle_timeout = 30.0"
	if !strings.Contains(block, knob) {
		t.Fatalf("live snippet has no %q line", knob)
	}
	block = strings.Replace(block, knob, "idle_timeout = 3.0", 1)

	dir := t.TempDir()
	g := docGrid(t)
	w, err := NewWriter(filepath.Join(dir, "run.h5"), g)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.StartSWMR(); err != nil {
		t.Fatal(err)
	}
	var masses []float64
	var m Moments
	appendSnap := func(i int) {
		t.Helper()
		p := gaussian(g, float64(i))
		if err := w.Append(0.1*float64(i), p); err != nil {
			t.Fatal(err)
		}
		ComputeMoments(&m, g, p)
		masses = append(masses, m.Mass)
	}
	appendSnap(0)

	cmd := exec.Command(python, "-c", block)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 6; i++ {
		time.Sleep(150 * time.Millisecond)
		appendSnap(i)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("live snippet: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var want strings.Builder
	for i, mass := range masses {
		fmt.Fprintf(&want, "snapshot %d: t = %s, mass = %.6f\n", i, strconv.FormatFloat(0.1*float64(i), 'g', 6, 64), mass)
	}
	if stdout.String() != want.String() {
		t.Errorf("live snippet printed\n%s\nwant\n%s", stdout.String(), want.String())
	}
}

// TestSWMRPython drives an h5py reader in SWMR mode in lockstep with the
// writer: after each append the reader refreshes and must see the new
// snapshot. The swmr-xarray snippet of docs/python.md runs on the live file
// too.
func TestSWMRPython(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.h5")
	g := docGrid(t)
	w, err := NewWriter(path, g)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	exact, err := w.NewGridSeries("/exact")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSWMR(); err != nil {
		t.Fatal(err)
	}
	appendSnap := func(i int) {
		t.Helper()
		if err := exact.Append(gaussian(g, float64(i)+0.5)); err != nil {
			t.Fatal(err)
		}
		if err := w.Append(float64(i), gaussian(g, float64(i))); err != nil {
			t.Fatal(err)
		}
	}
	appendSnap(0)

	reader := `
import sys, h5py, numpy as np
f = h5py.File("run.h5", "r", libver="latest", swmr=True)
t, d, e = f["time"], f["density"], f["exact"]
for line in sys.stdin:
    t.refresh(); d.refresh(); e.refresh()
    n = t.shape[0]
    print(n, repr(float(t[n - 1])), repr(float(d[n - 1].sum())), repr(float(e[n - 1].sum())), flush=True)
`
	cmd := exec.Command(python, "-c", reader)
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(outPipe)
	sum := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s
	}
	line := regexp.MustCompile(`^(\d+) (\S+) (\S+) (\S+)$`)
	for i := 0; i < 5; i++ {
		if i > 0 {
			appendSnap(i)
		}
		io.WriteString(in, "next\n")
		if !out.Scan() {
			t.Fatalf("reader stopped after %d snapshots: %s", i, stderr.String())
		}
		m := line.FindStringSubmatch(out.Text())
		if m == nil {
			t.Fatalf("reader printed %q", out.Text())
		}
		n, _ := strconv.Atoi(m[1])
		tm, _ := strconv.ParseFloat(m[2], 64)
		ds, _ := strconv.ParseFloat(m[3], 64)
		es, _ := strconv.ParseFloat(m[4], 64)
		// Sums of the same values in another order: a few ulps.
		if n != i+1 || tm != float64(i) || !near(ds, sum(gaussian(g, float64(i))), 1e-13) || !near(es, sum(gaussian(g, float64(i)+0.5)), 1e-13) {
			t.Errorf("after append %d the reader sees %q", i, out.Text())
		}
		if i == 2 {
			xr := runPython(t, dir, docBlocks(t)["python swmr-xarray"][0])
			if !strings.HasPrefix(xr, "3 snapshots so far; last at t = 2.0") {
				t.Errorf("swmr-xarray snippet printed %q", xr)
			}
		}
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("reader: %v: %s", err, stderr.String())
	}
}

// TestForeignWriter reads a file that h5py writes by hand from the layout in
// docs/format.md, with the liberties the format allows a writer: fixed-length
// strings, 32-bit numbers, no dimension scales, no chunking.
func TestForeignWriter(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	runPython(t, dir, `
import h5py, numpy as np
with h5py.File("foreign.h5", "w", libver="latest") as f:
    f.attrs["format"] = np.bytes_("fokker-density")
    f.attrs["format_version"] = np.int32(1)
    f.attrs["axes"] = np.array([b"u"])
    f.attrs["spec"] = "[grid]"
    f.attrs["note"] = np.bytes_("fixed")
    f.attrs["weights"] = np.array([1, 2, 3], dtype=np.int16)
    f.attrs["gain"] = np.float32(0.5)
    f["grid/u"] = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    f["grid/u_edges"] = np.array([0, 1, 2, 3], dtype=np.float32)
    f["time"] = np.array([0.0, 1.0, np.nan])
    f["density"] = np.arange(9, dtype=np.float32).reshape(3, 3)
    f["mass"] = np.zeros(3)
    f["mean"] = np.zeros((3, 1))
    f["covariance"] = np.zeros((3, 1, 1))
`)
	f, err := Open(filepath.Join(dir, "foreign.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fmt.Sprintf("%v %v %v %v %v", f.Names(), f.Centres(0), f.Edges(0), f.Times(), f.Spec()) != "[u] [0.5 1.5 2.5] [0 1 2 3] [0 1] [grid]" {
		t.Errorf("read %v %v %v %v %q", f.Names(), f.Centres(0), f.Edges(0), f.Times(), f.Spec())
	}
	p, err := f.Density(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p) != "[3 4 5]" {
		t.Errorf("snapshot 1: %v", p)
	}
	extra := f.Header().Extra
	if fmt.Sprintf("%v %v %v", extra["note"], extra["weights"], extra["gain"]) != "fixed [1 2 3] 0.5" {
		t.Errorf("extra attributes %#v", extra)
	}
	if _, err := f.Grid(); err != nil {
		t.Error(err)
	}
}
