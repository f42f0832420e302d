package sgd

import (
	"fmt"
	"math"

	"github.com/fokkerplanck/fokker/operators"
)

// Sampling is how a minibatch is drawn from the N data rows.
type Sampling int

const (
	// WithReplacement draws the n rows of a batch independently and
	// uniformly: the batch-mean gradient has covariance Σ/n.
	WithReplacement Sampling = iota
	// WithoutReplacement draws n distinct rows: the covariance is
	// (Σ/n)(N − n)/(N − 1), the finite-population correction.
	WithoutReplacement
)

// String returns "with-replacement" or "without-replacement".
func (s Sampling) String() string {
	switch s {
	case WithReplacement:
		return "with-replacement"
	case WithoutReplacement:
		return "without-replacement"
	}
	return fmt.Sprintf("Sampling(%d)", int(s))
}

// ParseSampling returns the sampling named s ("" is WithReplacement).
func ParseSampling(s string) (Sampling, error) {
	switch s {
	case "", "with-replacement":
		return WithReplacement, nil
	case "without-replacement":
		return WithoutReplacement, nil
	}
	return 0, fmt.Errorf("sgd: unknown sampling %q (want with-replacement or without-replacement)", s)
}

// Config selects the SGD run a Landscape describes.
type Config struct {
	// LearningRate is eta > 0; one step is eta units of time.
	LearningRate float64
	// BatchSize is n ≥ 1.
	BatchSize int
	// Sampling of the batches (zero value: WithReplacement).
	Sampling Sampling
	// FreezeAt, if not nil, freezes the gradient covariance at this point:
	// D is the constant D(FreezeAt), and the noise-induced drift vanishes.
	FreezeAt []float64
	// Modified selects the second-order modified equation (see
	// Landscape.Model) instead of the first-order SDE.
	Modified bool
}

// NoiseFactor returns f with Cov(batch-mean gradient) = f Σ/n: 1 with
// replacement, (N − n)/(N − 1) without.
func (c Config) NoiseFactor(rows int) float64 {
	if c.Sampling == WithoutReplacement {
		if rows <= 1 {
			return 0
		}
		return float64(rows-c.BatchSize) / float64(rows-1)
	}
	return 1
}

// Scale returns (eta/2n) f, the factor between the gradient covariance Σ
// and the diffusion tensor D.
func (c Config) Scale(rows int) float64 {
	return c.LearningRate / (2 * float64(c.BatchSize)) * c.NoiseFactor(rows)
}

func (c Config) check(ls *Landscape) error {
	switch {
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0):
		return fmt.Errorf("sgd: learning rate must be positive, got %g", c.LearningRate)
	case c.BatchSize < 1:
		return fmt.Errorf("sgd: batch size must be at least 1, got %d", c.BatchSize)
	case c.Sampling == WithoutReplacement && c.BatchSize > ls.data.Len():
		return fmt.Errorf("sgd: batch of %d rows without replacement from %d rows", c.BatchSize, ls.data.Len())
	case c.FreezeAt != nil && len(c.FreezeAt) != ls.d:
		return fmt.Errorf("sgd: freeze point has %d coordinates, want %d", len(c.FreezeAt), ls.d)
	}
	return nil
}

// Model returns the Fokker–Planck model of SGD with configuration c, the
// first-order stochastic modified equation (Li, Tai & E 2017) in the Itô
// convention:
//
//	mu(theta) = −∇L(theta) = −(1/N) sum_i ∇u(theta, X_i)
//	D(theta)  = (eta/2n) f Σ(theta),  Σ = covariance over the data of ∇u
//
// (with c.FreezeAt, Σ is taken at FreezeAt). With c.Modified, the
// second-order modified equation of the Euler–Maruyama scheme of that SDE
// at step eta, which is SGD with Gaussian gradient noise:
//
//	mu~ = −(I + (eta/2) H) ∇L,   D~ = (I + (eta/2) H) D (I + (eta/2) H),
//
// with H the mean Hessian (Zygalakis 2011 for the modified equation of
// Euler–Maruyama, whose drift here is Li, Tai & E's second-order one; the
// congruence keeps D~ positive semi-definite and equals
// D + (eta/2)(HD + DH) to O(eta²)). The terms of the modified equation
// dropped here are O(eta^3/2) relative where the density is concentrated
// at the O(sqrt(eta)) scale of the noise (docs/sgd.md).
//
// The coefficients are read from the landscape's tables at cell centres and
// face centres, where the operator evaluates them, and computed over the
// data elsewhere. Diagonal is false for d ≥ 2.
func (ls *Landscape) Model(c Config) (operators.Model, error) {
	if err := c.check(ls); err != nil {
		return operators.Model{}, err
	}
	d := ls.d
	scale := c.Scale(ls.data.Len())
	half := c.LearningRate / 2
	var frozen *pointStats
	if c.FreezeAt != nil {
		frozen = new(pointStats)
		w := ls.newWorkspace()
		if err := ls.stats(w, c.FreezeAt, wantGrad|wantCov, frozen); err != nil {
			return operators.Model{}, err
		}
	}
	m := operators.Model{
		Dim:        d,
		Diagonal:   d == 1,
		Convention: operators.Ito,
	}
	m.Drift = func(dst, x []float64, _ float64) {
		var ps pointStats
		want := wantGrad
		if c.Modified {
			want |= wantHess
		}
		if err := ls.at(x, want, &ps); err != nil {
			nan(dst)
			return
		}
		for i := 0; i < d; i++ {
			v := ps.grad[i]
			if c.Modified {
				for j := 0; j < d; j++ {
					v += half * ps.hess[SymIndex(d, i, j)] * ps.grad[j]
				}
			}
			dst[i] = -v
		}
	}
	m.Diffusion = func(dst, x []float64, _ float64) {
		if frozen != nil && !c.Modified {
			fillSym(dst, frozen.cov[:], d, scale)
			return
		}
		var ps pointStats
		want := wantCov
		if c.Modified {
			want |= wantHess
		}
		if err := ls.at(x, want, &ps); err != nil {
			nan(dst)
			return
		}
		if frozen != nil {
			ps.cov = frozen.cov
		}
		if !c.Modified {
			fillSym(dst, ps.cov[:], d, scale)
			return
		}
		congruence(dst, ps.cov[:], ps.hess[:], d, half, scale)
	}
	return m, nil
}

// fillSym writes scale times the symmetric matrix stored as the triangle t
// into dst (d×d, row-major).
func fillSym(dst, t []float64, d int, scale float64) {
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			dst[i*d+j] = scale * t[SymIndex(d, i, j)]
		}
	}
}

// congruence writes scale (I + a H) S (I + a H) into dst, with S and H
// symmetric triangles, exactly symmetric.
func congruence(dst, s, h []float64, d int, a, scale float64) {
	var m, q [maxDim * maxDim]float64
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			m[i*d+j] = a * h[SymIndex(d, i, j)]
			if i == j {
				m[i*d+j]++
			}
		}
	}
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			v := 0.0
			for k := 0; k < d; k++ {
				v += m[i*d+k] * s[SymIndex(d, k, j)]
			}
			q[i*d+j] = v
		}
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v, w := 0.0, 0.0
			for k := 0; k < d; k++ {
				v += q[i*d+k] * m[k*d+j]
				w += q[j*d+k] * m[k*d+i]
			}
			dst[i*d+j] = scale * 0.5 * (v + w)
			dst[j*d+i] = dst[i*d+j]
		}
	}
}

func nan(dst []float64) {
	for i := range dst {
		dst[i] = math.NaN()
	}
}
