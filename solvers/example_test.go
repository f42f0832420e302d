package solvers_test

import (
	"fmt"
	"log"
	"math"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
)

// A 2D Ornstein–Uhlenbeck process with a rotating drift and a full diffusion
// tensor, built in code: its stationary covariance solves the Lyapunov
// equation A S + S A^T = 2D, here S = [[0.4, 0.1], [0.1, 0.4]] (the
// scheme's O(h²) error shows in the third digit at this resolution).
func ExampleStationary() {
	g, err := grid.New(
		grid.Uniform("x", -4, 4, 128),
		grid.Uniform("y", -4, 4, 128),
	)
	if err != nil {
		log.Fatal(err)
	}
	model := operators.Model{
		Dim:       2,
		Drift:     operators.LinearDrift(2, []float64{1, 1, -1, 1}), // mu = −A x
		Diffusion: operators.ConstantDiffusion([]float64{0.5, 0.1, 0.1, 0.3}),
	}
	op, err := operators.New(g, model, nil)
	if err != nil {
		log.Fatal(err)
	}
	p := make([]float64, g.Len())
	if _, err := solvers.Stationary(p, op, nil); err != nil {
		log.Fatal(err)
	}
	mean, cov := make([]float64, 2), make([]float64, 4)
	mass := g.Moments(p, mean, cov)
	fmt.Printf("mass %.6g\n", mass)
	fmt.Printf("|mean| < 1e-9: %v\n", math.Hypot(mean[0], mean[1]) < 1e-9)
	fmt.Printf("covariance [[%.3f, %.3f], [%.3f, %.3f]]\n", cov[0], cov[1], cov[2], cov[3])
	// Output:
	// mass 1
	// |mean| < 1e-9: true
	// covariance [[0.400, 0.100], [0.100, 0.401]]
}
