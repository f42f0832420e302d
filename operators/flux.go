package operators

import (
	"fmt"
	"math"
)

// Scheme selects the numerical flux across a cell face.
type Scheme int

const (
	// Exponential is exponential fitting (Scharfetter–Gummel; identical to
	// Chang–Cooper weighting for this flux). It is exact for a constant
	// effective drift and diffusion across the face, keeps the operator an
	// M-matrix at any cell Péclet number, and is the default.
	Exponential Scheme = iota
	// Central averages the density to the face: second order, but it
	// oscillates (and loses positivity) when the cell Péclet number exceeds 2.
	Central
	// Upwind takes the density from the upstream cell: monotone, first order.
	Upwind
)

// String returns "exponential", "central" or "upwind".
func (s Scheme) String() string {
	switch s {
	case Exponential:
		return "exponential"
	case Central:
		return "central"
	case Upwind:
		return "upwind"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// ParseScheme returns the scheme named s.
func ParseScheme(s string) (Scheme, error) {
	switch s {
	case "exponential", "scharfetter-gummel", "sg", "chang-cooper", "":
		return Exponential, nil
	case "central":
		return Central, nil
	case "upwind":
		return Upwind, nil
	}
	return 0, fmt.Errorf("operators: unknown scheme %q (want exponential, central or upwind)", s)
}

// faceCoefficients returns the coefficients (a, b) of the flux
//
//	F = a p_P − b p_Q
//
// from cell P to cell Q across one face (or along one stencil direction).
// g is the geometric factor (face area over centre distance), kf the face
// diffusion coefficient along the connection, and v the effective drift times
// the centre distance, in the same units as kf: the exact flux through the
// face of −kf ∂p + (v/h) p with p interpolated exponentially. Every scheme
// returns a, b ≥ 0 when it is monotone.
//
// This is the one place where a normal flux is computed; see docs/numerics.md.
func faceCoefficients(s Scheme, g, kf, v float64) (a, b float64) {
	switch s {
	case Exponential:
		if kf <= 0 {
			// The limit kf → 0 of Scharfetter–Gummel is upwind.
			return g * math.Max(v, 0), g * math.Max(-v, 0)
		}
		// B(−z) = B(z) + z: one exponential per face, evaluated at |z| so
		// that the addition never cancels.
		z := v / kf
		bz := bernoulli(math.Abs(z))
		if z >= 0 {
			return g * kf * (bz + z), g * kf * bz
		}
		return g * kf * bz, g * kf * (bz - z)
	case Central:
		return g * (kf + 0.5*v), g * (kf - 0.5*v)
	case Upwind:
		return g * (kf + math.Max(v, 0)), g * (kf + math.Max(-v, 0))
	}
	panic("operators: invalid scheme")
}

// bernoulli returns B(z) = z / (exp(z) − 1), with B(0) = 1, accurate for all
// z (B(z) → −z as z → −∞ and → 0 as z → +∞).
//
// For |z| < 1/2 it sums the Taylor series 1 − z/2 + sum_k B_2k z^2k/(2k)!
// (B_2k the Bernoulli numbers), to z^6 for |z| < 1/100 and to z^14 beyond:
// the first term left out is below 1e-17 relative, and the polynomial costs
// a fraction of the exponential. Refined grids, whose cell Péclet numbers
// are small, evaluate only the short polynomial.
func bernoulli(z float64) float64 {
	az := math.Abs(z)
	z2 := z * z
	switch {
	case az < 0.01:
		return 1 - z/2 + z2*(1.0/12+z2*(-1.0/720+z2*(1.0/30240)))
	case az < 0.5:
		// Estrin's scheme in z², for a short dependency chain.
		z4 := z2 * z2
		z8 := z4 * z4
		p := (1.0/12 - z2/720) + z4*(1.0/30240-z2/1209600) + z8*((1.0/47900160-z2*691.0/1307674368000)+z4/74724249600)
		return 1 - z/2 + z2*p
	case z > 745:
		return 0
	}
	return z / math.Expm1(z)
}

// logMean returns the logarithmic mean (a − b)/(ln a − ln b) of a, b ≥ 0,
// with logMean(a, a) = a and logMean(a, 0) = 0. Used as the face diffusion,
// it makes the noise-induced drift exact: with zero drift and diagonal D the
// discrete stationary density is D^(alpha−1) at the cell centres.
func logMean(a, b float64) float64 {
	if a == b {
		return a
	}
	if a <= 0 || b <= 0 {
		return 0
	}
	u := b/a - 1
	if math.Abs(u) < 1e-3 {
		// (r−1)/ln r for r = 1+u, to relative error below 1e-16.
		return a * (1 + u*(1.0/2+u*(-1.0/12+u*(1.0/24+u*(-19.0/720+u*(3.0/160))))))
	}
	return (b - a) / math.Log(b/a)
}
