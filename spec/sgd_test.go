package spec_test

import (
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/spec"
)

const sgdSpec = `title = "sgd"
[grid]
axes = ["a", "b"]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [20, 20]

[sgd]
loss = "0.5*(a*b*x - y)^2"
generate = { n = 100, seed = 1, columns = { x = "normal(0, 1)", y = "x + s*normal(0, 1)" } }
params = { s = 0.5 }
learning_rate = 0.05
batch_size = 4
sampling = "without-replacement"
freeze_diffusion_at = [1.0, 1.0]
sweep = [0.01, 0.1]

[sgd.check]
chains = 100
points = [[1.0, 1.0]]
radius = 0.5
`

func TestParseSGD(t *testing.T) {
	s, err := spec.Parse([]byte(sgdSpec), "sgd.toml")
	if err != nil {
		t.Fatal(err)
	}
	g := s.SGD
	if g == nil || g.BatchSize != 4 || g.Generate.N != 100 || g.Generate.Columns["y"] != "x + s*normal(0, 1)" || g.Params["s"] != 0.5 || g.Check.Chains != 100 || len(g.Sweep) != 2 {
		t.Errorf("parsed %+v", g)
	}
	// [sgd] keys are checked strictly, with file:line:field.
	for _, c := range []struct{ old, new, want string }{
		{"batch_size = 4", "batch_size = 4\nbatch = 3", "sgd.toml:14: sgd.batch: unknown key"},
		{"chains = 100", "chains = 100\nwalkers = 3", "sgd.check.walkers: unknown key"},
		{`generate = { n = 100,`, `generate = { rows = 100, n = 100,`, "sgd.generate.rows: unknown key"},
		{"batch_size = 4", "batch_size = 0", "sgd.toml:13: sgd.batch_size: must be at least 1, got 0"},
		{"batch_size = 4", "batch_size = 200", "sgd.batch_size: batch of 200 without replacement from 100 rows"},
		{"learning_rate = 0.05", "learning_rate = inf", "sgd.learning_rate: must be positive and finite"},
		{`sampling = "without-replacement"`, `sampling = "poisson"`, `sgd.sampling: unknown sampling "poisson"`},
		{"freeze_diffusion_at = [1.0, 1.0]", "freeze_diffusion_at = [1.0]", "sgd.freeze_diffusion_at: has 1 entries, want one per axis (2)"},
		{"params = { s = 0.5 }", "params = { a = 0.5 }", `sgd.params.a: parameter name "a" clashes`},
		{`loss = "0.5*(a*b*x - y)^2"`, ``, "sgd.loss: missing"},
		{"radius = 0.5", "", "sgd.check.radius: missing"},
		{"points = [[1.0, 1.0]]", "points = [[1.0]]", "sgd.check.points: point 0 has 1 coordinates"},
	} {
		text := strings.Replace(sgdSpec, c.old, c.new, 1)
		_, err := spec.Parse([]byte(text), "sgd.toml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: error %v, want %q", c.old, c.new, err, c.want)
		}
	}
}
