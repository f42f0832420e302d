package operators

import (
	"math"
	"math/big"
	"testing"
)

// bernoulliRef returns z / (exp(z) − 1) in 256-bit arithmetic, from the
// series of exp(z) − 1, which converges fast for the |z| ≤ 50 used here.
func bernoulliRef(z float64) float64 {
	const prec = 256
	x := new(big.Float).SetPrec(prec).SetFloat64(z)
	sum := new(big.Float).SetPrec(prec)
	term := new(big.Float).SetPrec(prec).Set(x)
	for n := 2; n < 400; n++ {
		sum.Add(sum, term)
		term.Mul(term, x)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(int64(n)))
	}
	r, _ := new(big.Float).SetPrec(prec).Quo(x, sum).Float64()
	return r
}

// bernoulli is accurate to a few ulps on both sides of the switch from the
// Taylor polynomial to the exponential and far out: the polynomial's
// truncation error is below 1e-17 for |z| < 1/2, so what is left is the
// round-off of a dozen operations (or of expm1 and a division).
func TestBernoulli(t *testing.T) {
	zs := []float64{0, 1e-300, 1e-12, 1e-6, 1e-5, 1.0001e-5, 1e-3, 0.1, 0.3, 0.4999999, 0.5, 0.7, 1, 3, 10, 40}
	for _, z := range zs {
		for _, s := range []float64{1, -1} {
			z := s * z
			got, want := bernoulli(z), 1.0
			if z != 0 {
				want = bernoulliRef(z)
			}
			if r := math.Abs(got-want) / want; r > 4e-16 {
				t.Errorf("B(%g) = %.17g, want %.17g (relative error %.2g)", z, got, want, r)
			}
		}
	}
	if b := bernoulli(800); b != 0 {
		t.Errorf("B(800) = %g, want 0", b)
	}
	if b := bernoulli(-800); b != 800 {
		t.Errorf("B(-800) = %g, want 800", b)
	}
}
