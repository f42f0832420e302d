package operators

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSellingReconstructs checks sum lambda e e^T = M for random symmetric
// positive-definite matrices of growing anisotropy in 2 and 3 dimensions.
func TestSellingReconstructs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{2, 3} {
		for trial := 0; trial < 500; trial++ {
			// M = R diag(s) R^T with condition number up to 1e4.
			a := make([]float64, d*d)
			for i := range a {
				a[i] = rng.NormFloat64()
			}
			w := make([]float64, d)
			for k := range w {
				w[k] = math.Pow(10, -4*float64(k)/float64(d-1)*rng.Float64())
			}
			m := make([]float64, d*d)
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					s := 0.0
					for k := 0; k < d; k++ {
						s += a[i*d+k] * w[k] * a[j*d+k]
					}
					m[i*d+j] = s
				}
			}
			terms, err := selling(nil, m, d, 2000)
			if err != nil {
				t.Fatalf("d=%d trial %d: %v", d, trial, err)
			}
			if len(terms) != d*(d+1)/2 {
				t.Fatalf("got %d terms", len(terms))
			}
			maxLen := 1
			for _, tm := range terms {
				maxLen = max(maxLen, tm.e.normInf(d))
			}
			const eps = 0x1p-52
			scale := 0.0
			for i := 0; i < d; i++ {
				scale = math.Max(scale, m[i*d+i])
			}
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					s := 0.0
					for _, tm := range terms {
						if tm.lambda < 0 {
							t.Fatalf("negative weight %v", tm.lambda)
						}
						s += tm.lambda * float64(tm.e[i]*tm.e[j])
					}
					// Round-off: each weight is an inner product <b, M b'>
					// with |b| up to the stencil length L, so its error is
					// about eps*scale*L^2, multiplied by |e|^2 <= L^2 again.
					if math.Abs(s-m[i*d+j]) > 16*eps*scale*math.Pow(float64(maxLen), 4) {
						t.Fatalf("d=%d trial %d: entry (%d,%d) = %v, want %v (terms %v)", d, trial, i, j, s, m[i*d+j], terms)
					}
				}
			}
		}
	}
}
