package spec_test

import (
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/spec"
)

// The example from the CLI issue, verbatim.
const ou2d = `title = "2D Ornstein–Uhlenbeck with rotation"

[grid]
axes  = ["x", "y"]          # names become expression variables and HDF5 coordinate names
lower = [-4.0, -4.0]
upper = [ 4.0,  4.0]
cells = [128, 128]
boundary = "reflecting"     # all sides

[model]
drift = ["-x + y", "-x - y"]
diffusion = [["0.5", "0.1"], ["0.1", "0.3"]]
convention = "ito"
[model.params]
k = 1.0

[initial]
density = "exp(-((x-1.5)^2 + y^2)/0.1)"

[time]
end = 2.0
dt = 0.01
method = "bdf2"
snapshots = 21

[solver]
linear = "auto"
tolerance = 1e-10

[output]
file = "ou2d.h5"
`

func TestParseExample(t *testing.T) {
	s, err := spec.Parse([]byte(ou2d), "ou2d.toml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim() != 2 || s.Grid.Cells[1] != 128 || s.Model.Params["k"] != 1 {
		t.Errorf("parsed %+v", s)
	}
	d, err := s.DiffusionMatrix()
	if err != nil || d[0][1] != "0.1" || s.DiagonalDiffusion() {
		t.Errorf("diffusion %v %v", d, err)
	}
	ts := s.OutputTimes()
	if len(ts) != 21 || ts[0] != 0 || ts[20] != 2 || ts[10] != 1 {
		t.Errorf("times %v", ts)
	}
	if got := s.OutputPath(""); got != "ou2d.h5" {
		t.Errorf("output %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, edit, want string
	}{
		{"syntax", `s/cells = \[128, 128\]/cells = [128, 128/`, "ou2d.toml:8: expected a comma"},
		{"unknown key", `s/^dt = 0.01/dt = 0.01\nstep = 3/`, "ou2d.toml:23: time.step: unknown key"},
		{"drift length", `s/drift = .*/drift = ["x", "y", "z"]/`, "ou2d.toml:11: model.drift: has 3 entries, want one per axis (2)"},
		{"lower>=upper", `s/upper = .*/upper = [4.0, -4.0]/`, "grid.upper: axis \"y\": lower (-4) must be less than upper (-4)"},
		{"cells", `s/cells = .*/cells = [0, 10]/`, "grid.cells: axis \"x\": cells must be at least 1"},
		{"dt", `s/^dt = .*/dt = -0.1/`, "ou2d.toml:22: time.dt: must be positive"},
		{"boundary", `s/boundary = .*/boundary = "sticky"/`, "unknown boundary kind \"sticky\""},
		{"periodic one side", `s/boundary = .*/boundary = { x = ["periodic", "reflecting"] }/`, "periodic must be given on both sides"},
		{"diffusion shape", `s/diffusion = .*/diffusion = [["0.5", "0.1"], ["0.1"]]/`, "model.diffusion[1]: row has 1 entries, want 2"},
		{"reserved axis", `s/axes  = .*/axes = ["x", "t"]/`, "reserved"},
		{"max_stencil", `s/^tolerance = .*/tolerance = 1e-10\nmax_stencil = 1000000/`, "ou2d.toml:29: solver.max_stencil: must be between 1 and 64 cells (0 or absent: the default 8), got 1000000"},
	}
	for _, c := range cases {
		text := sed(ou2d, c.edit)
		_, err := spec.Parse([]byte(text), "ou2d.toml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

// sed applies a tiny s/old/new/ edit (old is a regular expression anchored
// per line when it starts with ^).
func sed(text, edit string) string {
	parts := strings.SplitN(edit[2:len(edit)-1], "/", 2)
	old, repl := parts[0], strings.ReplaceAll(parts[1], `\n`, "\n")
	re := mustRE(old)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if re.MatchString(l) {
			lines[i] = re.ReplaceAllString(l, repl)
			break
		}
	}
	return strings.Join(lines, "\n")
}

// A missing dt is reported as missing, not as "must be positive, got 0".
func TestMissingDt(t *testing.T) {
	text := sed(ou2d, `s/^dt = .*/# no dt/`)
	_, err := spec.Parse([]byte(text), "ou2d.toml")
	if err == nil || !strings.Contains(err.Error(), "time.dt: missing") {
		t.Errorf("error %v, want time.dt: missing", err)
	}
}
