package operators_test

import (
	"testing"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

var benchSink *operators.Operator

// benchmarkOU builds the operator of the Ornstein–Uhlenbeck process
// mu = −x, D = ½ I on [−6, 6]^d with n cells per axis (benchmark P1 in 1D)
// and, if matrix, lays out its CSR matrix; it reports ns per cell.
func benchmarkOU(b *testing.B, d, n int, matrix bool) {
	axes := make([]grid.Axis, d)
	a := make([]float64, d*d)
	for k := range axes {
		axes[k] = grid.Uniform(string(rune('x'+k)), -6, 6, n)
		a[k*d+k] = 1
	}
	g, err := grid.New(axes...)
	if err != nil {
		b.Fatal(err)
	}
	m := operators.Model{Dim: d, Drift: operators.LinearDrift(d, a), Diffusion: operators.IsotropicDiffusion(d, 0.5), Diagonal: true}
	for b.Loop() {
		op, err := operators.New(g, m, nil)
		if err != nil {
			b.Fatal(err)
		}
		if matrix {
			op.Matrix()
		}
		benchSink = op
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(g.Len()), "ns/cell")
}

func BenchmarkNewOU1D1e5(b *testing.B)       { benchmarkOU(b, 1, 100_000, false) }
func BenchmarkNewOU1D1e6(b *testing.B)       { benchmarkOU(b, 1, 1_000_000, false) }
func BenchmarkNewOU1D1e6Matrix(b *testing.B) { benchmarkOU(b, 1, 1_000_000, true) }
func BenchmarkNewOU2D512Matrix(b *testing.B) { benchmarkOU(b, 2, 512, true) }
