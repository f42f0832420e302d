package sgd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// psdFactor reproduces positive semi-definite matrices of every rank,
// rank-one ones along irrational directions included.
func TestPSDFactor(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for d := 1; d <= maxDim; d++ {
		for rank := 0; rank <= d; rank++ {
			for trial := 0; trial < 50; trial++ {
				// t = sum of rank outer products of random vectors.
				full := make([]float64, d*d)
				for q := 0; q < rank; q++ {
					v := make([]float64, d)
					for i := range v {
						v[i] = r.NormFloat64()
					}
					for i := 0; i < d; i++ {
						for j := 0; j < d; j++ {
							full[i*d+j] += v[i] * v[j]
						}
					}
				}
				tri := make([]float64, d*(d+1)/2)
				norm := 0.0
				for i := 0; i < d; i++ {
					for j := 0; j <= i; j++ {
						tri[SymIndex(d, i, j)] = full[i*d+j]
					}
					norm = math.Max(norm, math.Abs(full[i*d+i]))
				}
				l := make([]float64, d*d)
				psdFactor(l, tri, d)
				for i := 0; i < d; i++ {
					for j := 0; j < d; j++ {
						s := 0.0
						for k := 0; k < d; k++ {
							s += l[i*d+k] * l[j*d+k]
						}
						if math.Abs(s-full[i*d+j]) > 1e-6*norm+1e-300 {
							t.Fatalf("d %d rank %d: (l lᵀ)[%d,%d] = %v, want %v", d, rank, i, j, s, full[i*d+j])
						}
					}
				}
			}
		}
	}
}
