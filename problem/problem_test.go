package problem_test

import (
	"testing"

	"github.com/fokkerplanck/fokker/examples"
	"github.com/fokkerplanck/fokker/problem"
	"github.com/fokkerplanck/fokker/spec"
)

func build(t *testing.T, name string) *problem.Problem {
	t.Helper()
	b, _ := examples.Spec(name)
	s, err := spec.Parse(b, name+".toml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := problem.Build(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Coefficient evaluation from compiled expressions allocates nothing: it
// runs at every cell and face of every assembly.
func TestModelAllocs(t *testing.T) {
	p := build(t, "rotation2d")
	x := []float64{0.3, -0.2}
	dst := make([]float64, 4)
	if a := testing.AllocsPerRun(100, func() {
		p.Model.Drift(dst[:2], x, 0)
		p.Model.Diffusion(dst, x, 0)
	}); a != 0 {
		t.Errorf("%v allocations per evaluation", a)
	}
	if p.Model.Diagonal || p.Model.TimeDependent {
		t.Errorf("rotation2d: diagonal=%v time-dependent=%v", p.Model.Diagonal, p.Model.TimeDependent)
	}
	q := build(t, "doublewell2d")
	if a := testing.AllocsPerRun(100, func() { q.Model.Potential(x, 0) }); a != 0 {
		t.Errorf("%v allocations per potential evaluation", a)
	}
	if !q.Model.Diagonal {
		t.Error("doublewell2d: scalar D not diagonal")
	}
}
