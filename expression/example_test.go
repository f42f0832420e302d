package expression_test

import (
	"fmt"
	"log"

	"github.com/fokkerplanck/fokker/expression"
)

func ExampleCompile() {
	// A double-well potential of the grid axes x and y.
	e, err := expression.Compile("(x^2 - 1)^2 + y^2/2", []string{"x", "y"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("V(0.5, 1) = %.6g\n", e.Eval([]float64{0.5, 1}))

	// Its gradient, symbolically.
	for _, v := range []string{"x", "y"} {
		d, err := e.Derivative(v)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("dV/d%s = %s\n", v, d)
	}

	// Many points at once: columns of x and y.
	xs := []float64{-1, 0, 1}
	ys := []float64{0, 0, 2}
	dst := make([]float64, len(xs))
	e.EvalBatch(dst, [][]float64{xs, ys})
	fmt.Println(dst)

	// Errors say where.
	_, err = expression.Compile("-x + z", []string{"x", "y"})
	fmt.Println("model.drift[1]:", err)

	// Output:
	// V(0.5, 1) = 1.0625
	// dV/dx = 2*(x^2 - 1)*(2*x)
	// dV/dy = y
	// [0 1 2]
	// model.drift[1]: unknown variable "z" at column 6 in "-x + z"
}

func ExampleExpr_EvalBatch() {
	// A time-dependent drift; t is the same at every point, so it is
	// passed as a column of length 1 and exp(-t) is computed once per
	// chunk of points.
	e := expression.MustCompile("-x*exp(-t)", []string{"x", "t"})
	xs := []float64{-2, -1, 1, 2}
	t := []float64{0}
	dst := make([]float64, len(xs))
	for _, tv := range []float64{0, 1} {
		t[0] = tv
		e.EvalBatch(dst, [][]float64{xs, t})
		fmt.Printf("t=%v: %.4g\n", tv, dst)
	}
	// Output:
	// t=0: [2 1 -1 -2]
	// t=1: [0.7358 0.3679 -0.3679 -0.7358]
}

func ExampleExpr_Bind() {
	// Parameters compiled as variables can be fixed once known, which
	// folds them into constants.
	vars := []string{"x", "t", "sigma", "k"}
	d := expression.MustCompile("sigma^2/2*(1 + k*x^2)", vars)
	b, err := d.Bind(map[string]float64{"sigma": 0})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Vars(), b, b.IsConstant())
	// Output:
	// [x sigma k] 0 true
}
