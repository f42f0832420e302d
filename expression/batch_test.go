package expression

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// batchSources exercise every batch kernel: each arithmetic operation with
// column and scalar operands on either side, the generic unary, binary and
// ternary paths, powers, results that are a variable or a constant.
var batchSources = []string{
	"x", "t", "3", "-x", "x^2", "x^3", "x^-2", "x^y", "x^t",
	"x + y", "x + t", "t + x", "x - y", "x - t", "t - x", "x * y", "x * t", "t * y",
	"x / y", "x / t", "t / y", "x + 1", "1 - x", "2 / x", "x * 3",
	"exp(x)", "log(x)", "sqrt(x)", "abs(x)", "sin(x)", "exp(-t)*x", "exp(-t) + t^2",
	"atan2(x, y)", "atan2(x, t)", "atan2(t, x)", "min(x, y)", "max(x, t)", "x % y",
	"x > 0 ? y : t", "t > 0.5 ? x : y", "x > y ? 1 : t", "t > 0.5 ? t : 2",
	"0.5*(1+x^2) - x*y + exp(-y)", "(x^2 - 1)^2 + y^2/2",
	"exp(-((x-1.5)^2 + y^2)/0.1)", "let r = hypot(x, y); exp(-r)*sin(3*r)/r",
	"0 < x < 1 && !(y > 0) || t == 0.25",
}

// TestEvalBatchMatchesEval checks that EvalBatch gives bit for bit the
// results of Eval, for batch lengths around the chunk size and with t as a
// broadcast scalar or as a column.
func TestEvalBatchMatchesEval(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 3))
	for _, n := range []int{1, 2, chunk - 1, chunk, chunk + 1, 3*chunk + 17} {
		x, y, tc := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], y[i], tc[i] = 2*rnd.NormFloat64(), rnd.NormFloat64(), rnd.Float64()
		}
		x[0] = 0 // exercise exact zeros
		ts := []float64{0.25}
		for _, src := range batchSources {
			e := MustCompile(src, xyt)
			for _, scalarT := range []bool{false, true} {
				cols := [][]float64{x, y, tc}
				if scalarT {
					cols[2] = ts
				}
				dst := make([]float64, n)
				for i := range dst {
					dst[i] = math.NaN() // must be overwritten
				}
				e.EvalBatch(dst, cols)
				for i := range dst {
					tv := tc[i]
					if scalarT {
						tv = ts[0]
					}
					want := e.Eval([]float64{x[i], y[i], tv})
					if !same(dst[i], want) {
						t.Errorf("%q n=%d scalar t=%v: dst[%d] = %v, Eval = %v", src, n, scalarT, i, dst[i], want)
						break
					}
				}
			}
		}
	}
}

func TestEvalBatchUnusedColumns(t *testing.T) {
	e := MustCompile("2*y", xyt)
	dst := make([]float64, 3)
	e.EvalBatch(dst, [][]float64{nil, {1, 2, 3}, nil})
	if dst[0] != 2 || dst[1] != 4 || dst[2] != 6 {
		t.Errorf("got %v, want [2 4 6]", dst)
	}
	e.EvalBatch(nil, [][]float64{nil, nil, nil}) // empty batch
}

// TestEvalBatchInPlace checks that dst may be one of the columns.
func TestEvalBatchInPlace(t *testing.T) {
	for _, src := range []string{"x", "exp(-x)*y + x^2", "y - x"} {
		e := MustCompile(src, xyt)
		n := 3*chunk + 5
		x, y := make([]float64, n), make([]float64, n)
		want := make([]float64, n)
		for i := range x {
			x[i], y[i] = float64(i)/100, float64(n-i)/50
			want[i] = e.Eval([]float64{x[i], y[i], 0})
		}
		e.EvalBatch(x, [][]float64{x, y, {0}})
		for i := range x {
			if !same(x[i], want[i]) {
				t.Errorf("%q in place: dst[%d] = %v, want %v", src, i, x[i], want[i])
				break
			}
		}
	}
}

func TestEvalBatchPanics(t *testing.T) {
	e := MustCompile("x + y", xyt)
	dst := make([]float64, 4)
	four := []float64{1, 2, 3, 4}
	for i, cols := range [][][]float64{
		{four, four},             // too few columns
		{four, four, four, four}, // too many
		{four, {1, 2}, nil},      // wrong length
		{four, nil, nil},         // used column missing
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("case %d: EvalBatch did not panic", i)
				}
			}()
			e.EvalBatch(dst, cols)
		}()
	}
}

func TestAllocs(t *testing.T) {
	e := MustCompile("0.5*(1+x^2) - x*y + exp(-y) + (t > 0 ? atan2(x, t) : min(x, y))", xyt)
	v := []float64{0.3, -1.2, 0.5}
	if a := testing.AllocsPerRun(100, func() { sink = e.Eval(v) }); a != 0 {
		t.Errorf("Eval: %v allocations, want 0", a)
	}
	if raceEnabled {
		// Under the race detector sync.Pool drops a random quarter of
		// the items put back, by design, so EvalBatch allocates.
		t.Skip("EvalBatch allocations are not measurable with -race")
	}
	const n = 1000
	x, y := make([]float64, n), make([]float64, n)
	dst := make([]float64, n)
	cols := [][]float64{x, y, {0.5}}
	e.EvalBatch(dst, cols) // fill the pool
	if a := testing.AllocsPerRun(100, func() { e.EvalBatch(dst, cols) }); a != 0 {
		t.Errorf("EvalBatch: %v allocations, want 0", a)
	}
}

// TestConcurrent evaluates one expression and its derivative from many
// goroutines at once; run with -race.
func TestConcurrent(t *testing.T) {
	e := MustCompile("exp(-((x-1.5)^2 + y^2)/0.1) + x^3*sin(t)", xyt)
	d, err := e.Derivative("x")
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	x, y, tc := make([]float64, n), make([]float64, n), make([]float64, n)
	rnd := rand.New(rand.NewPCG(4, 5))
	for i := range x {
		x[i], y[i], tc[i] = rnd.NormFloat64(), rnd.NormFloat64(), rnd.Float64()
	}
	want := make([]float64, n)
	wantD := make([]float64, n)
	for i := range want {
		want[i] = e.Eval([]float64{x[i], y[i], tc[i]})
		wantD[i] = d.Eval([]float64{x[i], y[i], tc[i]})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			dst := make([]float64, n)
			v := make([]float64, 3)
			for rep := range 20 {
				f, w := e, want
				if (g+rep)%2 == 1 {
					f, w = d, wantD
				}
				f.EvalBatch(dst, [][]float64{x, y, tc})
				for i := range dst {
					v[0], v[1], v[2] = x[i], y[i], tc[i]
					if s := f.Eval(v); !same(s, w[i]) || !same(dst[i], w[i]) {
						errs <- fmt.Errorf("goroutine %d point %d: Eval %v, EvalBatch %v, want %v", g, i, s, dst[i], w[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
