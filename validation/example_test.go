package validation_test

import (
	"fmt"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
	"github.com/fokkerplanck/fokker/validation"
)

// Particles of the Ornstein–Uhlenbeck process dX = −X dt + dW, started
// from the PDE's stationary density, stay there: the histogram after two
// time units is consistent with it, within the sampling noise.
func ExampleCompare() {
	g, _ := grid.New(grid.Uniform("x", -5, 5, 100))
	m := operators.Model{Dim: 1, Drift: operators.LinearDrift(1, []float64{1}), Diffusion: operators.IsotropicDiffusion(1, 0.5)}
	op, _ := operators.New(g, m, nil)
	p := make([]float64, g.Len())
	if _, err := solvers.Stationary(p, op, nil); err != nil {
		fmt.Println(err)
		return
	}

	res, err := validation.Simulate(validation.Problem{
		Grid:         g,
		Coefficients: validation.FromModel(m, g),
		Convention:   m.Convention,
		Initial:      p,
		Times:        []float64{2},
	}, &validation.Settings{Particles: 200000, Dt: 0.005, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := &res.Snapshots[0]
	c := validation.Compare(g, p, s, nil)
	fmt.Printf("variance %.2f (exact 0.5), L1 within 1.5× its noise floor: %v\n", s.Cov[0], c.Ratio() <= 1.5)
	fmt.Println("consistent:", c.Consistent)
	// Output:
	// variance 0.50 (exact 0.5), L1 within 1.5× its noise floor: true
	// consistent: true
}
