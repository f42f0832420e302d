package expression

import (
	"math/rand/v2"
	"testing"
)

// benchSrc is a representative coefficient: a diffusion-like polynomial, a
// cross term and an exponential.
const benchSrc = "0.5*(1+x^2) - x*y + exp(-y)"

// sink keeps results alive so that the compiler cannot drop the work.
var sink float64

func BenchmarkEval(b *testing.B) { benchmarkEval(b, benchSrc) }

func BenchmarkEvalPolynomial(b *testing.B) { benchmarkEval(b, "(x^2 - 1)^2 + y^2/2") }

func BenchmarkEvalBatch(b *testing.B) { benchmarkEvalBatch(b, benchSrc, 4096, false) }

func BenchmarkEvalBatchPolynomial(b *testing.B) {
	benchmarkEvalBatch(b, "(x^2 - 1)^2 + y^2/2", 4096, false)
}

// BenchmarkEvalBatchScalarY broadcasts y, so exp(-y) is computed once per
// chunk.
func BenchmarkEvalBatchScalarY(b *testing.B) { benchmarkEvalBatch(b, benchSrc, 4096, true) }

// benchmarkEval evaluates src at n points per iteration and reports the time
// per point.
func benchmarkEval(b *testing.B, src string) {
	e := MustCompile(src, []string{"x", "y"})
	const n = 1024
	rnd := rand.New(rand.NewPCG(1, 2))
	pts := make([][]float64, n)
	for i := range pts {
		pts[i] = []float64{rnd.NormFloat64(), rnd.NormFloat64()}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var s float64
	for i := 0; i < b.N; i++ {
		for _, p := range pts {
			s += e.Eval(p)
		}
	}
	sink = s
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
}

// benchmarkEvalBatch evaluates src at n points per iteration and reports
// the time per point. With scalarY, y is a broadcast scalar.
func benchmarkEvalBatch(b *testing.B, src string, n int, scalarY bool) {
	e := MustCompile(src, []string{"x", "y"})
	rnd := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = rnd.NormFloat64(), rnd.NormFloat64()
	}
	if scalarY {
		y = y[:1]
	}
	dst := make([]float64, n)
	cols := [][]float64{x, y}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.EvalBatch(dst, cols)
	}
	sink = dst[0]
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
}
