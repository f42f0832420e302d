package sgd_test

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/sgd"
	"github.com/fokkerplanck/fokker/spec"
)

func exampleSetup(t testing.TB, name string, edit func(string) string) *sgd.Setup {
	t.Helper()
	b, err := os.ReadFile("../examples/" + name + ".toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if edit != nil {
		text = edit(text)
	}
	s, err := spec.Parse([]byte(text), name+".toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sgd.FromSpec(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The regularization of the rank-one D of the product model: the mass near
// the balanced point at t = 20 as eps falls from 3e-2 to 1e-3 at 100²
// cells. With the drift distributed in the metric of D (operators), the
// example's eps = 1e-2 reproduces the real SGD chains' 0.803 (cli test); but
// at a fixed grid, smaller eps needs longer Selling stencils (5, 8, 13, 23
// cells), whose own consistency error grows: measured 0.712, 0.805, 0.656,
// 0.441. Convergence as eps → 0 needs h → 0 with it (stencil length × h →
// 0); that study is not done yet (docs/sgd.md, "What is weak"). This test
// pins the measured behaviour so that a change to it is noticed.
func TestRegularizationStudy(t *testing.T) {
	var mass []float64
	var ls *sgd.Landscape
	for _, eps := range []float64{0.03, 0.01, 0.003, 0.001} {
		st := exampleSetup(t, "sgd_product2d", func(s string) string {
			s = strings.Replace(s, "dt = 0.25", "dt = 1.0", 1)
			return strings.Replace(s, "times = [0.0, 5.0, 10.0, 20.0]", "times = [20.0]", 1)
		})
		st.Base.Operator.Regularization = eps
		st.Base.Operator.MaxStencil = 32
		if ls == nil {
			var err error
			if ls, err = sgd.Evaluate(st.Grid, st.Loss, st.Data, 0); err != nil {
				t.Fatal(err)
			}
		}
		sol, err := st.Solve(context.Background(), ls, st.Config, false)
		if err != nil {
			t.Fatal(err)
		}
		mass = append(mass, massNear(st, sol.Last(), 1, 1, 0.5))
	}
	t.Logf("mass near (1,1) at eps 3e-2, 1e-2, 3e-3, 1e-3: %.4f", mass)
	// The example's eps (the second) against the SGD chains' 0.803 ± 0.003
	// (binomial standard error at 20000 chains), within the 0.02 grid error
	// measured between 60² and 100².
	if math.Abs(mass[1]-0.803) > 0.02 {
		t.Errorf("mass near (1,1) at eps = 1e-2: %.4f, SGD 0.803", mass[1])
	}
	// Pin the fixed-grid trend (dt = 1 here, so 1e-2 differs from the cli
	// run by the time step error): more than 0.1 lost by eps = 1e-3.
	if !(mass[3] < mass[1]-0.1) {
		t.Errorf("fixed-grid trend changed: %.4f", mass)
	}
}

func massNear(st *sgd.Setup, p []float64, a, b, r float64) float64 {
	g := st.Grid
	x := make([]float64, 2)
	m := 0.0
	for l := range p {
		g.Centre(x, l)
		if (x[0]-a)*(x[0]-a)+(x[1]-b)*(x[1]-b) <= r*r {
			m += p[l] * g.Volume(l)
		}
	}
	return m
}

// 1D stationary densities with reflecting walls carry no flux.
func TestStationaryFlux1D(t *testing.T) {
	st := exampleSetup(t, "sgd_linreg1d", func(s string) string {
		return strings.Replace(s, "cells = [10000]", "cells = [2000]", 1)
	})
	ls, err := sgd.Evaluate(st.Grid, st.Loss, st.Data, 0)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := st.Solve(context.Background(), ls, st.Config, false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ls.Fields(st.Config)
	if err != nil {
		t.Fatal(err)
	}
	p := sol.Last()
	J := sgd.Flux(st.Grid, f, p)
	// Against the scale mu p: central differences of p leave O(h²)
	// (h = 0.01, density width 0.08: relative 2%).
	var jn, mp float64
	for l := range p {
		jn += math.Abs(J[0][l]) * st.Grid.Volume(l)
		mp += math.Abs(f.Drift[0][l]*p[l]) * st.Grid.Volume(l)
	}
	if jn > 0.02*mp {
		t.Errorf("stationary flux %.3g, drift flux scale %.3g", jn, mp)
	}
}

// At small eta the first-order SDE and SGD agree within the noise floor
// plus the O(eta) allowance, and SGD's law to first order agrees within the
// noise floor: linear regression at eta = 0.02 (measured ratios 4.8 and
// 1.0 with 4e5 records at bins of 0.02; here 1e5 records).
func TestStudySmallEta(t *testing.T) {
	st := exampleSetup(t, "sgd_linreg1d", nil)
	st.Check.Samples = 5
	ls, err := sgd.Evaluate(st.Grid, st.Loss, st.Data, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := st.Config
	c.LearningRate = 0.02
	st.Check.Steps = 500
	st.Check.Thin = 150
	sd, err := st.Run(context.Background(), ls, c, false)
	if err != nil {
		t.Fatal(err)
	}
	cm := sd.Comparisons[0]
	t.Logf("L1/floor: SDE %.3g, first order %.3g, allowance %.3g floors", cm.FP.Ratio(), cm.Corrected.Ratio(), cm.Allowance/cm.FP.L1Floor)
	if !cm.Passed || cm.Corrected.Ratio() > sgd.L1Ratio || cm.Corrected.ChiSquarePValue < 1e-3 {
		t.Errorf("comparison: %v; first order: %v", cm.FP.String(), cm.Corrected.String())
	}
	if cm.FP.Ratio() < 2 {
		t.Errorf("the first-order SDE's O(eta) error should show at 1e5 records: L1/floor %.3g", cm.FP.Ratio())
	}
}
