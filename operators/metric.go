package operators

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// metricSolve writes into w a solution of D w = mu for the symmetric
// positive semi-definite d×d matrix D (row-major), and into perp the part of
// mu outside the range of D, mu − D w (zero when D is invertible). For a
// singular D, w is the minimum-norm (pseudo-inverse) solution.
//
// The drift of a model with full D is distributed over the stencil
// directions e of Selling's decomposition D = sum_e kappa_e u_e u_e^T in the
// metric of D: direction e carries the velocity kappa_e u_e (u_e · D⁻¹ mu), so
// that sum_e kappa_e u_e u_e^T D⁻¹ mu = mu, and the cell Péclet number of the
// connection along the displacement d is d · D⁻¹ mu, independent of kappa_e.
// Each connection's exponential fitting then sees the diffusion along its own
// direction; for a strongly anisotropic or rank-deficient D, where an axis
// carries little diffusion, this avoids the upwinding (and numerical
// diffusion) of putting all the drift on the axes.
func metricSolve(w, perp, dm, mu []float64, d int) {
	scale := 0.0
	for i := 0; i < d; i++ {
		scale = math.Max(scale, dm[i*d+i])
	}
	if scale == 0 {
		clear(w)
		copy(perp, mu)
		return
	}
	switch d {
	case 2:
		a, b, c := dm[0], dm[1], dm[3]
		det := a*c - b*b
		if det > 1e-12*scale*scale {
			w[0] = (c*mu[0] - b*mu[1]) / det
			w[1] = (a*mu[1] - b*mu[0]) / det
			perp[0], perp[1] = 0, 0
			return
		}
		// Rank one: D = lambda u u^T.
		lam := a + c
		var u0, u1 float64
		if a >= c {
			u0, u1 = a, b
		} else {
			u0, u1 = b, c
		}
		nu := math.Hypot(u0, u1)
		u0, u1 = u0/nu, u1/nu
		s := u0*mu[0] + u1*mu[1]
		w[0], w[1] = u0*s/lam, u1*s/lam
		perp[0], perp[1] = mu[0]-u0*s, mu[1]-u1*s
		return
	}
	// General d: Cholesky when positive definite, else eigen-decomposition.
	var l [maxSellingDim * maxSellingDim]float64
	ok := true
	for i := 0; i < d && ok; i++ {
		for j := 0; j <= i; j++ {
			s := dm[i*d+j]
			for k := 0; k < j; k++ {
				s -= l[i*d+k] * l[j*d+k]
			}
			if i == j {
				if s <= 1e-12*scale {
					ok = false
					break
				}
				l[i*d+i] = math.Sqrt(s)
			} else {
				l[i*d+j] = s / l[j*d+j]
			}
		}
	}
	if ok {
		for i := 0; i < d; i++ {
			s := mu[i]
			for k := 0; k < i; k++ {
				s -= l[i*d+k] * w[k]
			}
			w[i] = s / l[i*d+i]
		}
		for i := d - 1; i >= 0; i-- {
			s := w[i]
			for k := i + 1; k < d; k++ {
				s -= l[k*d+i] * w[k]
			}
			w[i] = s / l[i*d+i]
		}
		clear(perp)
		return
	}
	var es mat.EigenSym
	sym := mat.NewSymDense(d, append([]float64(nil), dm[:d*d]...))
	if !es.Factorize(sym, true) {
		clear(w)
		copy(perp, mu)
		return
	}
	var ev mat.Dense
	es.VectorsTo(&ev)
	vals := es.Values(nil)
	clear(w)
	copy(perp, mu)
	for j := 0; j < d; j++ {
		if vals[j] <= 1e-12*scale {
			continue
		}
		s := 0.0
		for i := 0; i < d; i++ {
			s += ev.At(i, j) * mu[i]
		}
		for i := 0; i < d; i++ {
			w[i] += ev.At(i, j) * s / vals[j]
			perp[i] -= ev.At(i, j) * s
		}
	}
}
