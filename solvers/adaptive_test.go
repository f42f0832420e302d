package solvers_test

import (
	"math"
	"testing"

	"github.com/fokkerplanck/fokker/solvers"
)

// Adaptive steps: the error at t = 1 falls with the tolerance (roughly in
// proportion for these one-step error controllers), outputs are hit exactly,
// and fewer steps are taken than the fixed-step run of similar accuracy.
func TestAdaptiveStepping(t *testing.T) {
	g := ouGrid(t, 48)
	ref := runOU(t, g, solvers.BDF2, 1.0/1600)
	times := []float64{0, 0.1, 0.35, 1}
	for _, method := range []solvers.TimeMethod{solvers.BackwardEuler, solvers.BDF2, solvers.CrankNicolson} {
		var prevErr float64
		for _, tol := range []float64{1e-4, 1e-5} {
			op := mustOperator(t, g, ouModel(), nil)
			p := gaussianCells(g, ouM0, ouS0)
			st, err := solvers.NewStepper(op, &solvers.StepSettings{Method: method, Adaptive: true, Tolerance: tol, Linear: solvers.LinearSettings{Tolerance: 1e-12}})
			if err != nil {
				t.Fatal(err)
			}
			var hit []float64
			obs := solvers.ObserverFunc(func(s *solvers.State) error {
				if s.Output >= 0 {
					hit = append(hit, s.T)
				}
				return nil
			})
			res, err := st.Run(p, 0, times, obs)
			if err != nil {
				t.Fatal(err)
			}
			if len(hit) != len(times) {
				t.Fatalf("outputs at %v, want %v", hit, times)
			}
			for i := range hit {
				if hit[i] != times[i] {
					t.Errorf("output %d at %v, want exactly %v", i, hit[i], times[i])
				}
			}
			e := l1(g, p, ref)
			t.Logf("%v tol=%g: %d steps (%d rejected), L1 error at t=1 %.2e", method, tol, res.Steps, res.Rejected, e)
			if prevErr != 0 && !(e < prevErr) {
				t.Errorf("%v: error %.2e at tol %g not below %.2e", method, e, tol, prevErr)
			}
			// The global error is a modest multiple of the local tolerance
			// per step times the number of steps.
			if e > float64(res.Steps)*tol*5 {
				t.Errorf("%v: error %.2e too large for %d steps at tolerance %g", method, e, res.Steps, tol)
			}
			prevErr = e
			if math.IsNaN(e) {
				t.Fatal("NaN")
			}
		}
	}
}
