package bench

import "testing"

// Every problem runs at a small size and its error is at the level of the
// discretisation (the benchmark's accuracy column is meaningful).
func TestSmallCases(t *testing.T) {
	for _, c := range []struct {
		c   Case
		tol float64
	}{
		{Case{"P1", 1000, ""}, 1e-4},
		{Case{"P2", 64, ""}, 1e-12},
		{Case{"P2", 64, "iterative"}, 1e-8},
		{Case{"P3", 64, "euler"}, 0.05},
		{Case{"P3", 64, "bdf2"}, 0.05},
		{Case{"P4", 20000, ""}, 0.01},
		{Case{"P5", 16, ""}, 0.02},
	} {
		r, err := Run(c.c)
		if err != nil {
			t.Fatalf("%v: %v", c.c, err)
		}
		t.Logf("%v: %.3fs, %d its, error %.2e, %s, %.0f SpMV", c.c, r.Seconds, r.Iterations, r.Error, r.Method, r.SpMVEq)
		if !(r.Error <= c.tol) {
			t.Errorf("%v: error %.3e > %g", c.c, r.Error, c.tol)
		}
	}
}
