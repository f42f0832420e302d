package operators

import "fmt"

// Convention selects how the noise term of the SDE is interpreted, through
// the parameter alpha of the flux
//
//	J = mu p − D grad p − (1 − alpha) (div D) p.
type Convention int

const (
	// Ito is alpha = 0: dp/dt = div[(−mu + div D) p + D grad p].
	Ito Convention = iota
	// Stratonovich is alpha = 1/2.
	Stratonovich
	// AntiIto is alpha = 1, the Hänggi–Klimontovich (isothermal) convention.
	AntiIto
)

// Alpha returns the evaluation point of the noise term: 0, 1/2 or 1.
func (c Convention) Alpha() float64 {
	switch c {
	case Ito:
		return 0
	case Stratonovich:
		return 0.5
	case AntiIto:
		return 1
	}
	panic(fmt.Sprintf("operators: invalid convention %d", int(c)))
}

// String returns "ito", "stratonovich" or "anti-ito".
func (c Convention) String() string {
	switch c {
	case Ito:
		return "ito"
	case Stratonovich:
		return "stratonovich"
	case AntiIto:
		return "anti-ito"
	}
	return fmt.Sprintf("Convention(%d)", int(c))
}

// ParseConvention returns the convention named s.
func ParseConvention(s string) (Convention, error) {
	switch s {
	case "ito", "itô", "Ito", "Itô", "":
		return Ito, nil
	case "stratonovich", "Stratonovich":
		return Stratonovich, nil
	case "anti-ito", "anti-itô", "antiito", "hanggi", "hänggi", "klimontovich", "isothermal":
		return AntiIto, nil
	}
	return 0, fmt.Errorf("operators: unknown convention %q (want ito, stratonovich or anti-ito)", s)
}

// Model holds the coefficients of dX = mu(X,t) dt + sqrt(2 D(X,t)) dW.
//
// The functions are called with x of length Dim and must be safe for
// concurrent use; they must not retain x or dst.
type Model struct {
	// Dim is the number of space dimensions; it must equal the grid's.
	Dim int

	// Drift writes mu(x, t) into dst (length Dim). Nil means zero drift.
	Drift func(dst, x []float64, t float64)

	// Potential, if not nil, adds −grad U to the drift. The discretisation
	// uses exact differences of U between cells, so that for constant
	// isotropic D the discrete stationary density of a gradient system is
	// exp(−U/D) at the cell centres to round-off.
	Potential func(x []float64, t float64) float64

	// Diffusion writes D(x, t), symmetric positive semi-definite, into dst
	// (length Dim*Dim, row-major). It is required.
	Diffusion func(dst, x []float64, t float64)

	// Diagonal declares that D is diagonal everywhere; off-diagonal entries
	// written by Diffusion are then ignored and the operator uses the
	// 2*Dim+1-point stencil.
	Diagonal bool

	// TimeDependent declares that Drift, Potential or Diffusion depend on t.
	// Steppers then re-assemble the operator at every stage time.
	TimeDependent bool

	// Convention is the interpretation of the noise (zero value: Ito).
	Convention Convention
}

// ConstantDiffusion returns a Diffusion function for the constant matrix d
// (row-major, length dim*dim).
func ConstantDiffusion(d []float64) func(dst, x []float64, t float64) {
	c := append([]float64(nil), d...)
	return func(dst, _ []float64, _ float64) { copy(dst, c) }
}

// IsotropicDiffusion returns a Diffusion function for D = s I in dim
// dimensions.
func IsotropicDiffusion(dim int, s float64) func(dst, x []float64, t float64) {
	return func(dst, _ []float64, _ float64) {
		for i := range dst {
			dst[i] = 0
		}
		for i := 0; i < dim; i++ {
			dst[i*dim+i] = s
		}
	}
}

// LinearDrift returns a Drift function mu(x) = −A x with A row-major dim×dim.
func LinearDrift(dim int, a []float64) func(dst, x []float64, t float64) {
	c := append([]float64(nil), a...)
	return func(dst, x []float64, _ float64) {
		for i := 0; i < dim; i++ {
			s := 0.0
			for j := 0; j < dim; j++ {
				s -= c[i*dim+j] * x[j]
			}
			dst[i] = s
		}
	}
}
