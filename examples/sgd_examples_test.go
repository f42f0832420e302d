package examples_test

import (
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/examples"
	"github.com/fokkerplanck/fokker/sgd"
	"github.com/fokkerplanck/fokker/spec"
)

// Every [sgd] example builds: grid, data, loss, and the operator of its
// first-order model on a landscape of the example's grid.
func TestSGDExamplesBuild(t *testing.T) {
	found := 0
	for _, n := range examples.Names() {
		if !strings.HasPrefix(n, "sgd_") {
			continue
		}
		found++
		b, _ := examples.Spec(n)
		s, err := spec.Parse(b, n+".toml")
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		st, err := sgd.FromSpec(s, 0)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if st.Data.Len() < 2 || st.Loss == nil {
			t.Errorf("%s: data %d rows", n, st.Data.Len())
		}
		if s.Initial != nil {
			rho := make([]float64, st.Grid.Len())
			if err := st.Base.InitialDensity(rho); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
	}
	if found != 3 {
		t.Errorf("%d sgd examples, want 3", found)
	}
}
