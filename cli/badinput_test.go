package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const goodSpec = `title = "bad input base"
[grid]
axes = ["x", "y"]
lower = [-2.0, -2.0]
upper = [2.0, 2.0]
cells = [16, 16]

[model]
drift = ["-x", "-y"]
diffusion = [["0.5", "0.1"], ["0.1", "0.5"]]

[initial]
density = "exp(-(x^2 + y^2))"

[time]
end = 0.1
dt = 0.01
snapshots = 3
`

// Every bad-input item of the CLI contract: exit code 2, one clear line
// naming the field (and line, expression or point), no output file, and an
// existing output file left untouched.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name    string
		old     string // regexp on one line of goodSpec
		new     string
		cmd     string // "run" (default) or "steady"
		out     string // output path relative to the temp dir (default out.h5)
		wantMsg string // regexp the error line must match
	}{
		{"toml syntax", `^cells = .*`, `cells = [16, 16`, "", "", `spec.toml:8: expected a comma`},
		{"unknown key", `^dt = .*`, "dt = 0.01\nstepsize = 3", "", "", `spec.toml:18: time.stepsize: unknown key`},
		{"unknown table", `^\[time\]`, "[tiem]", "", "", `tiem.*unknown key`},
		{"wrong array length", `^drift = .*`, `drift = ["-x"]`, "", "", `spec.toml:9: model.drift: has 1 entries, want one per axis \(2\)`},
		{"lower >= upper", `^upper = .*`, `upper = [2.0, -2.0]`, "", "", `spec.toml:5: grid.upper: axis "y": lower \(-2\) must be less than upper \(-2\)`},
		{"cells < 1", `^cells = .*`, `cells = [16, 0]`, "", "", `grid.cells: axis "y": cells must be at least 1`},
		{"grid too large for memory", `^cells = .*`, `cells = [30000, 30000]`, "", "", `grid.cells: grid of 900000000 cells needs about [0-9.]+ GiB of memory, more than the [0-9.]+ GiB available`},
		{"unknown variable", `^drift = .*`, `drift = ["-x", "-z"]`, "", "", `spec.toml:9: model.drift\[1\]: unknown variable "z" at column 2 in "-z"`},
		{"expression syntax", `^drift = .*`, `drift = ["-x", "-(y"]`, "", "", `spec.toml:9: model.drift\[1\]: .*in "-\(y"`},
		{"drift NaN", `^drift = .*`, `drift = ["log(x)", "-y"]`, "", "", `spec.toml:8: model: drift at \(x=-1.875, y=-1.875\), t=0: mu\[0\] = NaN`},
		{"diffusion Inf", `^diffusion = .*`, `diffusion = [["1/(x+1.875)", "0"], ["0", "1"]]`, "", "", `model: diffusion at \(x=-1.875, y=-1.875\), t=0: D\[0\]\[0\] = \+Inf`},
		{"D not symmetric", `^diffusion = .*`, `diffusion = [["0.5", "0.1"], ["0.2", "0.5"]]`, "", "", `D is not symmetric: D\[0\]\[1\] = 0.1, D\[1\]\[0\] = 0.2`},
		{"D not PSD", `^diffusion = .*`, `diffusion = [["0.5", "1"], ["1", "0.5"]]`, "", "", `is not positive semi-definite`},
		{"D negative", `^diffusion = .*`, `diffusion = "x"`, "", "", `D\[0\]\[0\] = -1.875 is negative`},
		{"initial negative", `^density = .*`, `density = "x"`, "", "", `spec.toml:13: initial.density: is negative \(-1.875\) at \(x=-1.875, y=-1.875\)`},
		{"initial zero mass", `^density = .*`, `density = "0"`, "", "", `initial.density: has mass 0 on the grid`},
		{"dt <= 0", `^dt = .*`, `dt = 0.0`, "", "", `spec.toml:17: time.dt: must be positive`},
		{"dt negative", `^dt = .*`, `dt = -0.01`, "", "", `time.dt: must be positive`},
		{"unwritable output", `^title.*`, `title = "x"`, "", "no/such/dir/out.h5", `no/such/dir/out.h5.*no such file or directory`},
		{"unknown convention", `^diffusion = .*`, "diffusion = \"0.5\"\nconvention = \"ito-ish\"", "", "", `model.convention: unknown convention "ito-ish"`},
		{"steady with absorbing", `^cells = .*`, "cells = [16, 16]\nboundary = \"absorbing\"", "steady", "", `grid.boundary: no stationary density`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			text := edit(t, goodSpec, c.old, c.new)
			specPath := filepath.Join(dir, "spec.toml")
			if err := os.WriteFile(specPath, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out := c.out
			if out == "" {
				out = "out.h5"
			}
			out = filepath.Join(dir, out)
			// An existing output must survive bad input untouched.
			const previous = "previous result"
			if c.out == "" {
				os.WriteFile(out, []byte(previous), 0o644)
			}
			cmd := c.cmd
			if cmd == "" {
				cmd = "run"
			}
			code, stdout, stderr := fokker(t, cmd, specPath, "-o", out)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			msg := strings.TrimSpace(stderr)
			if strings.Count(msg, "\n") != 0 {
				t.Errorf("error is not one line:\n%s", msg)
			}
			if !regexp.MustCompile(c.wantMsg).MatchString(msg) {
				t.Errorf("message\n  %s\ndoes not match\n  %s", msg, c.wantMsg)
			}
			if c.out == "" {
				b, err := os.ReadFile(out)
				if err != nil || string(b) != previous {
					t.Errorf("previous output file changed or removed (%v)", err)
				}
			} else if _, err := os.Stat(out); err == nil {
				t.Errorf("output file %s left behind", out)
			}
			// No stray files (temporaries, partial outputs) in the directory.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if n := e.Name(); n != "spec.toml" && n != "out.h5" {
					t.Errorf("stray file %s", n)
				}
			}
		})
	}
}

func TestBadFilesAndFlags(t *testing.T) {
	dir := t.TempDir()
	notH5 := filepath.Join(dir, "x.h5")
	os.WriteFile(notH5, []byte("not hdf5 at all"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", filepath.Join(dir, "missing.toml")}, "missing.toml: no such file"},
		{[]string{"run", dir}, "is a directory"},
		{[]string{"inspect", notH5}, "x.h5"},
		{[]string{"plot", notH5}, "x.h5"},
		{[]string{"run"}, "accepts 1 arg"},
		{[]string{"run", "a.toml", "--frobnicate"}, "unknown flag"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"--threads", "-1", "examples"}, "--threads must be positive"},
	} {
		code, _, stderr := fokker(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// edit replaces the first line of text matching the regexp old by new.
func edit(t *testing.T, text, old, new string) string {
	t.Helper()
	re := regexp.MustCompile(old)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if re.MatchString(l) {
			lines[i] = new
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no line matches %q", old)
	return ""
}
