package examples_test

import (
	"testing"

	"github.com/fokkerplanck/fokker/examples"
	"github.com/fokkerplanck/fokker/problem"
	"github.com/fokkerplanck/fokker/spec"
)

// Every example parses and builds.
func TestExamplesBuild(t *testing.T) {
	names := examples.Names()
	if len(names) < 8 {
		t.Fatalf("only %d examples", len(names))
	}
	for _, n := range names {
		b, _ := examples.Spec(n)
		s, err := spec.Parse(b, n+".toml")
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if examples.Title(n) == "" {
			t.Errorf("%s: no title", n)
		}
		if s.SGD != nil {
			// [sgd] specs are built by package sgd (sgd_examples_test.go).
			continue
		}
		p, err := problem.Build(s, 0)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if _, err := p.NewOperator(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		rho := make([]float64, p.Grid.Len())
		if err := p.InitialDensity(rho); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}
