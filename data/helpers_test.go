package data

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
)

// python is the interpreter with the Debian packages python3-h5py,
// python3-xarray and python3-h5netcdf (not a pyenv python on PATH).
const python = "/usr/bin/python3"

// requirePython fails the test (it does not skip it) if python lacks h5py,
// xarray or h5netcdf.
func requirePython(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import h5py, xarray, h5netcdf, numpy").CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot import h5py, xarray, h5netcdf and numpy (%v: %s);\n"+
			"run `make test`, which installs python3-h5py python3-xarray python3-h5netcdf", python, err, strings.TrimSpace(string(out)))
	}
}

// runPython runs script with python in dir and returns its standard output.
func runPython(t *testing.T, dir, script string, env ...string) string {
	t.Helper()
	cmd := exec.Command(python, "-c", script)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python failed: %v\nscript:\n%s\nstderr:\n%s\nstdout:\n%s", err, script, stderr.String(), out)
	}
	return string(out)
}

// testGrid returns a grid of dimension d with stretched cells (so that
// volumes differ from cell to cell) and mixed boundaries.
func testGrid(t testing.TB, d int) *grid.Grid {
	t.Helper()
	names := []string{"x", "y", "z"}
	sizes := []int{7, 5, 4}
	rnd := rand.New(rand.NewPCG(uint64(d), 1))
	axes := make([]grid.Axis, d)
	for k := range axes {
		e := make([]float64, sizes[k]+1)
		e[0] = -2 + float64(k)
		for i := 1; i < len(e); i++ {
			e[i] = e[i-1] + 0.5 + rnd.Float64()
		}
		axes[k] = grid.Stretched(names[k], e)
	}
	axes[0] = axes[0].WithBoundary(grid.Absorbing, grid.Reflecting)
	if d > 1 {
		axes[1] = axes[1].WithBoundary(grid.Periodic, grid.Periodic)
	}
	g, err := grid.New(axes...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// gaussian fills a density on g: an anisotropic Gaussian whose centre moves
// with s, so that every snapshot differs.
func gaussian(g *grid.Grid, s float64) []float64 {
	p := make([]float64, g.Len())
	c := make([]float64, g.Dim())
	for l := range p {
		g.Centre(c, l)
		r2 := 0.0
		for k, x := range c {
			dx := x - 0.1*s - 0.3*float64(k)
			r2 += dx * dx / float64(k+1)
		}
		p[l] = math.Exp(-r2/2) + 1e-3*float64(l%7)
	}
	return p
}

// testPath returns a file path in a fresh temporary directory.
func testPath(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name)
}

// noOpenObjects checks that no HDF5 object (file, dataset, …) is left open.
func noOpenObjects(t *testing.T) {
	t.Helper()
	if n := openObjects(); n != 0 {
		t.Errorf("%d HDF5 objects still open", n)
	}
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}
