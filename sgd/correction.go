package sgd

import (
	"fmt"
	"math"

	"github.com/james-bowman/sparse"

	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/solvers"
)

// The O(eta) correction. One SGD step theta' = theta − eta ĝ has the mean
// and covariance of one Euler–Maruyama step of the first-order SDE at step
// eta; the two differ only in the higher cumulants of the batch gradient
// noise (Gaussian for Euler–Maruyama). So, to first order in eta,
//
//	SGD law = Euler–Maruyama law + δp,
//
// with the Euler–Maruyama law given by the Fokker–Planck density p~ of the
// modified equation (Landscape.Model with Config.Modified), and δp from
// the Kramers–Moyal expansion of the difference of the two one-step
// kernels, E f(theta') − E_EM f(theta') = eta R f with
//
//	R f = −(eta²/6) κ3:∇³f + (eta³/24) κ4:∇⁴f,
//
// κ3 = κ3(∇u)/n² and κ4 = κ4(∇u)/n³ the third and fourth cumulants of the
// batch-mean gradient (per-sample cumulants over the data, at the cell
// centres; batches without replacement use these independent-draw values,
// an error O(n/N) in a term that is itself O(eta)). Near a minimum the
// density has width O(sqrt(eta)), every derivative costs eta^-1/2, and
// both terms are O(eta) relative to the generator (the κ3 term because the
// per-sample noise is symmetric at a minimum to leading order; the mixed
// term ĝ⊗κ3 is O(eta²) and dropped). Then
//
//	stationary:  L~ δp = −R* p~,    sum δp V = 0
//	transient:   dδp/dt = L~ δp + R* p~,   δp(0) = 0
//
// with R* p = (eta²/6) ∂_ijk(κ3_ijk p) + (eta³/24) ∂_ijkl(κ4_ijkl p)
// (summed), the derivatives by nested central differences (Derivative),
// and L~ the operator of the modified equation.
//
// The expansion is in the local step eta |H|, with H the mean Hessian: SGD
// is unstable beyond eta λ_max(H) = 2, and where eta |H| approaches 1 the
// SDE itself is no model of SGD (there the SDE can carry mass that SGD,
// which overshoots, never holds, and the cumulants of the noise grow
// fastest). The source is therefore multiplied by a taper that is 1 where
// eta |H|_F ≤ 1/4 and falls smoothly to 0 at eta |H|_F = 1/2 (|H|_F ≥
// λ_max, the Frobenius norm); validity reports the probability on cells
// where it is 1.
type corrector struct {
	ls    *Landscape
	op    *operators.Operator
	terms []corrTerm
	a, b  []float64 // scratch
	rhs   []float64 // right-hand side of a transient step
	taper []float64 // validity of the expansion per cell, in [0, 1]
	set   solvers.LinearSettings

	// Transient: factorisations of I − h L by step h.
	steps map[float64]solvers.LinearSolver
}

// corrTerm is one term coef·∂_axes(… p) of R* p, with the multiplicity of
// the sorted index tuple and the numerical prefactor folded into coef.
type corrTerm struct {
	axes []int
	coef []float64
}

func newCorrector(ls *Landscape, c Config, op *operators.Operator, set solvers.LinearSettings) *corrector {
	g := ls.g
	d, n := ls.d, g.Len()
	eta := c.LearningRate
	bs := float64(c.BatchSize)
	cr := &corrector{ls: ls, op: op, a: make([]float64, n), b: make([]float64, n), set: set}
	index4 := tupleIndex(ls.tuples4)
	sig := func(l, i, j int) float64 { return ls.cov[SymIndex(d, i, j)][l] }
	cr.taper = make([]float64, n)
	for l := range cr.taper {
		h := 0.0
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				v := ls.hess[SymIndex(d, i, j)][l]
				h += v * v
			}
		}
		u := (0.5 - eta*math.Sqrt(h)) / 0.25 // 1 at eta|H| = 1/4, 0 at 1/2
		u = math.Max(0, math.Min(1, u))
		cr.taper[l] = u * u * (3 - 2*u)
	}
	for a, t := range ls.tuples3 {
		coef := make([]float64, n)
		f := eta * eta / 6 * float64(multiplicity(t)) / (bs * bs)
		for l := range coef {
			coef[l] = f * ls.mom3[a][l] * cr.taper[l]
		}
		cr.terms = append(cr.terms, corrTerm{axes: t, coef: coef})
	}
	for _, t := range ls.tuples4 {
		coef := make([]float64, n)
		f := eta * eta * eta / 24 * float64(multiplicity(t)) / (bs * bs * bs)
		i, j, k, m := t[0], t[1], t[2], t[3]
		a := index4(i, j, k, m)
		for l := range coef {
			kappa4 := ls.mom4[a][l] - (sig(l, i, j)*sig(l, k, m) + sig(l, i, k)*sig(l, j, m) + sig(l, i, m)*sig(l, j, k))
			coef[l] = f * kappa4 * cr.taper[l]
		}
		cr.terms = append(cr.terms, corrTerm{axes: t, coef: coef})
	}
	if c.FreezeAt == nil {
		cr.terms = append(cr.terms, remainderTerms(ls, c, cr.taper)...)
	}
	return cr
}

// remainderTerms returns, as source terms of δp, the part of the
// second-order modified generator of Euler–Maruyama at step eta that the
// modified equation of p~ leaves out. With f = mu, J = ∇mu and L0 = f·∇ +
// D:∇², Euler–Maruyama's one-step expansion gives the modified generator
// L0 − (eta/2) N, with N the part of L0² in which L0 differentiates its own
// coefficients:
//
//	N φ = (J f + D:∇²f)·∇φ + (JD + DJᵀ + f·∇D + D:∇²D):∇²φ + 2 D_jm ∂_j D_kl ∂_mkl φ.
//
// p~ keeps J f (in mu~) and JD + DJᵀ (in the congruence D~); the rest,
//
//	E φ = c·∇φ + C:∇²φ + T:∇³φ,  c = −(eta/2) D:∇²f,
//	C = −(eta/2)(f·∇D + D:∇²D),  T_mkl = −eta D_jm ∂_j D_kl,
//
// is O(eta^{3/2}) relative near an isolated minimum (where the density has
// width sqrt(eta)) but of leading order along a valley of minima, where
// the motion is itself O(eta) (docs/sgd.md, product model). Its adjoint
// E* p = −∂_i(c_i p) + ∂_kl(C_kl p) − ∂_mkl(T_mkl p) joins R* p in the
// source of δp. ∇D and ∇²D are central differences of D between centres,
// ∇²f = −∇H of the exact Hessians at the centres. The terms are tapered
// like the cumulant terms.
func remainderTerms(ls *Landscape, c Config, taper []float64) []corrTerm {
	g := ls.g
	d, n := ls.d, g.Len()
	eta := c.LearningRate
	s := c.Scale(ls.data.Len())
	dm := func(a int) []float64 { // D_a at the centres
		v := make([]float64, n)
		for l := range v {
			v[l] = s * ls.cov[a][l]
		}
		return v
	}
	D := make([][]float64, ls.nh)
	for a := range D {
		D[a] = dm(a)
	}
	// dD[j][a] = ∂_j D_a, ddD[SymIndex(j, m)][a] = ∂_jm D_a, dH[k][a] = ∂_k H_a.
	dD := make([][][]float64, d)
	dH := make([][][]float64, d)
	ddD := make([][][]float64, ls.nh)
	for j := 0; j < d; j++ {
		dD[j] = make([][]float64, ls.nh)
		dH[j] = make([][]float64, ls.nh)
		for a := 0; a < ls.nh; a++ {
			dD[j][a] = make([]float64, n)
			Derivative(dD[j][a], g, D[a], j)
			dH[j][a] = make([]float64, n)
			Derivative(dH[j][a], g, ls.hess[a], j)
		}
	}
	for j := 0; j < d; j++ {
		for m := j; m < d; m++ {
			jm := SymIndex(d, j, m)
			ddD[jm] = make([][]float64, ls.nh)
			for a := 0; a < ls.nh; a++ {
				ddD[jm][a] = make([]float64, n)
				Derivative(ddD[jm][a], g, dD[j][a], m)
			}
		}
	}
	sym := func(i, j int) int { return SymIndex(d, i, j) }
	var terms []corrTerm
	// −∂_i(c_i p), c_i = −(eta/2) D_jk ∂_jk f_i = (eta/2) D_jk ∂_k H_ij.
	for i := 0; i < d; i++ {
		coef := make([]float64, n)
		for l := range coef {
			ci := 0.0
			for j := 0; j < d; j++ {
				for k := 0; k < d; k++ {
					ci += D[sym(j, k)][l] * dH[k][sym(i, j)][l]
				}
			}
			coef[l] = -0.5 * eta * ci * taper[l]
		}
		terms = append(terms, corrTerm{axes: []int{i}, coef: coef})
	}
	// ∂_kl(C_kl p), C_kl = −(eta/2)(f_j ∂_j D_kl + D_jm ∂_jm D_kl), f = −∇L.
	for k := 0; k < d; k++ {
		for m := k; m < d; m++ {
			a := sym(k, m)
			mult := 1.0
			if k != m {
				mult = 2
			}
			coef := make([]float64, n)
			for l := range coef {
				v := 0.0
				for j := 0; j < d; j++ {
					v -= ls.grad[j][l] * dD[j][a][l]
					for q := 0; q < d; q++ {
						v += D[sym(j, q)][l] * ddD[sym(j, q)][a][l]
					}
				}
				coef[l] = -0.5 * eta * mult * v * taper[l]
			}
			terms = append(terms, corrTerm{axes: []int{k, m}, coef: coef})
		}
	}
	// −∂_mkl(T_mkl p), T_mkl = −eta D_jm ∂_j D_kl, summed over ordered
	// (m, k, l) into the sorted triple.
	idx3 := tupleIndex(ls.tuples3)
	coef3 := make([][]float64, len(ls.tuples3))
	for a := range coef3 {
		coef3[a] = make([]float64, n)
	}
	for m := 0; m < d; m++ {
		for k := 0; k < d; k++ {
			for q := 0; q < d; q++ {
				t := coef3[idx3(m, k, q)]
				for l := range t {
					v := 0.0
					for j := 0; j < d; j++ {
						v += D[sym(j, m)][l] * dD[j][sym(k, q)][l]
					}
					t[l] += eta * v * taper[l]
				}
			}
		}
	}
	for a, t := range ls.tuples3 {
		terms = append(terms, corrTerm{axes: t, coef: coef3[a]})
	}
	return terms
}

// tupleIndex returns a lookup from any index tuple to the position of its
// sorted version in tuples.
func tupleIndex(tuples [][]int) func(idx ...int) int {
	m := map[[4]int]int{}
	for a, t := range tuples {
		var key [4]int
		copy(key[:], t)
		for i := len(t); i < 4; i++ {
			key[i] = -1
		}
		m[key] = a
	}
	return func(idx ...int) int {
		var key [4]int
		for i := range key {
			key[i] = -1
		}
		copy(key[:], idx)
		s := key[:len(idx)]
		for i := 1; i < len(s); i++ {
			for j := i; j > 0 && s[j] < s[j-1]; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
		return m[key]
	}
}

// multiplicity returns the number of distinct orderings of the tuple t.
func multiplicity(t []int) int {
	fact := func(n int) int {
		r := 1
		for i := 2; i <= n; i++ {
			r *= i
		}
		return r
	}
	m := fact(len(t))
	for i := 0; i < len(t); {
		j := i
		for j < len(t) && t[j] == t[i] {
			j++
		}
		m /= fact(j - i)
		i = j
	}
	return m
}

// source writes R* p into dst.
func (cr *corrector) source(dst, p []float64) {
	g := cr.ls.g
	clear(dst)
	for _, t := range cr.terms {
		a, b := cr.a, cr.b
		for l := range a {
			a[l] = t.coef[l] * p[l]
		}
		for _, k := range t.axes {
			Derivative(b, g, a, k)
			a, b = b, a
		}
		for l := range dst {
			dst[l] += a[l]
		}
	}
}

// stationary solves L δp = −R* p for the stationary density p, with
// sum δp V = 0, into dst.
func (cr *corrector) stationary(dst, p []float64) error {
	n := len(p)
	src := make([]float64, n)
	cr.source(src, p)
	raw := cr.op.Matrix().RawMatrix()
	data := make([]float64, len(raw.Data))
	pin := 0
	for i, v := range p {
		if v > p[pin] {
			pin = i
		}
	}
	solvers.PinRow(data, cr.op.Matrix(), pin)
	a := sparse.NewCSR(n, n, raw.Indptr, raw.Ind, data)
	rhs := make([]float64, n)
	for i := range rhs {
		rhs[i] = -src[i]
	}
	rhs[pin] = 0
	set := cr.set
	if set.Tolerance <= 0 {
		set.Tolerance = 1e-12
	}
	solver, err := solvers.NewLinearSolver(a, &set)
	if err != nil {
		return fmt.Errorf("sgd: O(eta) correction: %w", err)
	}
	clear(dst)
	if _, err := solver.Solve(dst, rhs); err != nil {
		return fmt.Errorf("sgd: O(eta) correction: %w", err)
	}
	cr.project(dst, p)
	return nil
}

// project removes the multiple of p that carries mass: sum δp V = 0.
func (cr *corrector) project(dp, p []float64) {
	vol := cr.op.Volumes()
	m, mp := 0.0, 0.0
	for l := range dp {
		m += dp[l] * vol[l]
		mp += p[l] * vol[l]
	}
	if mp == 0 {
		return
	}
	for l := range dp {
		dp[l] -= m / mp * p[l]
	}
}

// step advances δp by one backward-Euler step of length h to the time of
// p (the density at the end of the step), with the source R* p.
func (cr *corrector) step(dp, p []float64, h float64) error {
	if cr.steps == nil {
		cr.steps = map[float64]solvers.LinearSolver{}
	}
	solver, ok := cr.steps[h]
	if !ok {
		raw := cr.op.Matrix().RawMatrix()
		n := len(p)
		data := make([]float64, len(raw.Data))
		for i := 0; i < n; i++ {
			for k := raw.Indptr[i]; k < raw.Indptr[i+1]; k++ {
				data[k] = -h * raw.Data[k]
				if raw.Ind[k] == i {
					data[k]++
				}
			}
		}
		a := sparse.NewCSR(n, n, raw.Indptr, raw.Ind, data)
		var err error
		if solver, err = solvers.NewLinearSolver(a, &cr.set); err != nil {
			return fmt.Errorf("sgd: O(eta) correction: %w", err)
		}
		if len(cr.steps) > 64 {
			clear(cr.steps) // adaptive runs: keep the cache small
		}
		cr.steps[h] = solver
	}
	if len(cr.rhs) != len(p) {
		cr.rhs = make([]float64, len(p))
	}
	rhs := cr.rhs
	cr.source(rhs, p)
	for l := range rhs {
		rhs[l] = dp[l] + h*rhs[l]
	}
	if _, err := solver.Solve(dp, rhs); err != nil {
		return fmt.Errorf("sgd: O(eta) correction: %w", err)
	}
	return nil
}

// validity returns the probability of p on cells where the taper is 1.
func (cr *corrector) validity(p []float64) float64 {
	vol := cr.op.Volumes()
	in, all := 0.0, 0.0
	for l, v := range p {
		all += v * vol[l]
		if cr.taper[l] == 1 {
			in += v * vol[l]
		}
	}
	if all == 0 {
		return 0
	}
	return in / all
}
