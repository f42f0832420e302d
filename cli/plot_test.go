package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fokkerplanck/fokker/data"
)

// A 1D, a 2D and a 3D example plot to valid, non-blank PNGs; --time picks
// the nearest snapshot.
func TestPlotPNG(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, cmd string }{
		{"ou1d", "run"}, {"cir1d", "steady"}, {"rotation2d", "run"}, {"doublewell2d", "steady"}, {"ou3d", "steady"},
	} {
		spec := writeExample(t, dir, c.name)
		h5 := filepath.Join(dir, c.name+".h5")
		mustRun(t, "-q", c.cmd, spec, "-o", h5)
		png := filepath.Join(dir, c.name+".png")
		out := mustRun(t, "plot", h5, "-o", png, "--time", "0.5")
		if !strings.Contains(out, png) {
			t.Errorf("plot printed %q", out)
		}
		checkPNG(t, png)
		if os.Getenv("FOKKER_KEEP_PNG") != "" {
			b, _ := os.ReadFile(png)
			os.WriteFile(filepath.Join(os.Getenv("FOKKER_KEEP_PNG"), c.name+".png"), b, 0o644)
		}
	}
	code, _, stderr := fokker(t, "plot", filepath.Join(dir, "ou1d.h5"), "-o", filepath.Join(dir, "x.jpg"))
	if code != 2 || !strings.Contains(stderr, ".png") {
		t.Errorf("plot to .jpg: exit %d %q", code, stderr)
	}
}

// Ctrl-C stops a run at the next step with exit code 130 and leaves a
// valid file holding the snapshots written so far. The test runs the real
// binary and sends it SIGINT, reading the file from this process meanwhile
// (as a live reader in another process would).
func TestInterrupt(t *testing.T) {
	bin := buildFokker(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "long.toml")
	text := strings.Replace(goodSpec, "cells = [16, 16]", "cells = [96, 96]", 1)
	text = strings.Replace(text, "end = 0.1\ndt = 0.01\nsnapshots = 3", "end = 100.0\ndt = 0.001\nsnapshots = 50001", 1)
	os.WriteFile(spec, []byte(text), 0o644)
	out := filepath.Join(dir, "long.h5")
	cmd := exec.Command(bin, "run", spec, "-o", out)
	var se strings.Builder
	cmd.Stderr = &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait until a few snapshots are on disk, then interrupt.
	deadline := time.Now().Add(60 * time.Second)
wait:
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run ended before the interrupt: %v, %s", err, se.String())
		default:
		}
		if f, err := data.Open(out); err == nil {
			n := f.Snapshots()
			f.Close()
			if n >= 3 {
				break wait
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	<-done
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130; stderr %q", code, se.String())
	}
	f, err := data.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := f.Snapshots()
	if n < 3 || n >= 50001 {
		t.Errorf("%d snapshots after the interrupt", n)
	}
	for i := 0; i < n; i++ {
		if _, err := f.Density(nil, i); err != nil {
			t.Errorf("snapshot %d: %v", i, err)
		}
	}
}

// The Python contract on a file written by the CLI: h5py reads everything
// without fokker code, xarray (h5netcdf engine) gives named dims and
// coordinates, and the density integrates to the stored mass.
func TestPythonReadsCLIOutput(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import h5py, xarray, h5netcdf").Run(); err != nil {
		t.Fatalf("%s cannot import h5py, xarray and h5netcdf (%v): run `make test`, which installs python3-h5py, python3-xarray and python3-h5netcdf", py, err)
	}
	dir := t.TempDir()
	spec := writeExample(t, dir, "rotation2d")
	h5 := filepath.Join(dir, "r.h5")
	mustRun(t, "-q", "run", spec, "-o", h5)
	script := `
import sys, h5py, numpy as np, xarray as xr
path = sys.argv[1]
with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "fokker-density", f.attrs["format"]
    assert int(f.attrs["format_version"]) == 1
    axes = list(f.attrs["axes"])
    assert axes == ["x", "y"], axes
    x, y = f["grid/x"][:], f["grid/y"][:]
    dx, dy = np.diff(f["grid/x_edges"][:]), np.diff(f["grid/y_edges"][:])
    rho = f["density"][-1]
    mass = float((rho * np.outer(dx, dy)).sum())
    assert abs(mass - f["mass"][-1]) < 1e-12, (mass, f["mass"][-1])
    assert f["density"].shape == (31, 128, 128), f["density"].shape
ds = xr.open_dataset(path, engine="h5netcdf")
assert ds["density"].dims == ("time", "x", "y"), ds["density"].dims
assert np.allclose(ds["x"].values, x) and np.allclose(ds["time"].values[[0, -1]], [0, 3])
last = ds["density"].sel(time=3.0)
m = float(last.integrate("x").integrate("y"))
assert abs(m - 1) < 2e-3, m   # trapezoid rule on cell centres: O(h^2)
print("ok", mass)
`
	cmd := exec.Command(py, "-c", script, h5)
	outb, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(outb), "ok") {
		t.Fatalf("python: %v\n%s", err, outb)
	}
}
