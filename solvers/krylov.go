package solvers

import (
	"fmt"
	"math"
	"time"

	"github.com/james-bowman/sparse"
)

// Krylov solves A x = b by right-preconditioned BiCGSTAB or restarted
// GMRES. Workspaces are kept between solves.
type Krylov struct {
	Settings LinearSettings
	// fallback makes a BiCGSTAB failure retry with GMRES (Method Auto).
	fallback bool

	a      *sparse.CSR
	dia    diaMatrix // a by diagonals, for stencil matrices
	useDIA bool
	prec   Preconditioner
	split  *AxisILU0 // prec, when BiCGSTAB can use Eisenstat's trick
	fork   forkJoin  // the two goroutines of a split solve

	// The vector operation the fork runs (see vec) and its partial sums.
	vecID      int
	job        int
	jx, jy, jz []float64
	jw         []float64
	ja, jb     float64
	first      bool // the first iteration since a (re)start
	part       [2][2]float64

	// The timing of solves on one and on two goroutines (see pickMode).
	solves   int
	modeRuns [2]int
	modeTime [2]float64 // ns per iteration

	n int

	// workspaces
	r, rhat, p, v, s, t, phat, shat []float64
	vs                              [][]float64 // GMRES basis
	h                               []float64   // GMRES Hessenberg, (m+1)×m
	cs, sn, gv, y, w, z             []float64
}

var _ LinearSolver = (*Krylov)(nil)

// Factor implements LinearSolver: it (re)computes the preconditioner.
func (k *Krylov) Factor(a *sparse.CSR) error {
	k.a = a
	n, _ := a.Dims()
	k.n = n
	k.useDIA = k.dia.set(a)
	if k.prec == nil {
		k.prec = newPreconditioner(k.Settings.Preconditioner, k.Settings.Shape, n)
	}
	if err := k.prec.Factor(a); err != nil {
		return err
	}
	// BiCGSTAB runs on the split preconditioned system when the
	// preconditioner allows Eisenstat's trick.
	k.split = nil
	switch p := k.prec.(type) {
	case *AxisILU0:
		k.split = p
	case *autoILU0:
		k.split, _ = p.use.(*AxisILU0)
	}
	return nil
}

// Solve implements LinearSolver. x holds the initial guess on entry.
func (k *Krylov) Solve(x, b []float64) (LinearResult, error) {
	start := time.Now()
	if len(x) != k.n || len(b) != k.n {
		panic("solvers: wrong vector length")
	}
	method := k.Settings.Method
	if method == Auto || method == Direct {
		method = BiCGSTAB
	}
	var res LinearResult
	if method == BiCGSTAB {
		if k.split != nil {
			res = k.bicgstabSplit(k.split, x, b)
		} else {
			res = k.bicgstab(x, b)
		}
		if res.Status != Converged && k.fallback {
			it := res.Iterations
			res = k.gmres(x, b)
			res.Iterations += it
		}
	} else {
		res = k.gmres(x, b)
	}
	res.Duration = time.Since(start)
	if res.Status != Converged {
		return res, fmt.Errorf("solvers: %v after %d iterations (relative residual %.3g, tolerance %.3g)", res.Status, res.Iterations, res.Residual, k.Settings.tol())
	}
	return res, nil
}

func (k *Krylov) trueResidual(x, b []float64) float64 {
	k.r = resize(k.r, k.n)
	rn := k.residual(k.r, x, b)
	bn := norm2(b)
	if bn == 0 {
		return rn
	}
	return rn / bn
}

func (k *Krylov) bicgstab(x, b []float64) LinearResult {
	n := k.n
	tol := k.Settings.tol()
	maxIt := k.Settings.maxIter()
	for _, w := range []*[]float64{&k.r, &k.rhat, &k.p, &k.v, &k.s, &k.t, &k.phat, &k.shat} {
		*w = resize(*w, n)
	}
	r, rhat, p, v, s, t, phat, shat := k.r, k.rhat, k.p, k.v, k.s, k.t, k.phat, k.shat
	bn := norm2(b)
	if bn == 0 {
		clear(x)
		return LinearResult{Status: Converged}
	}
	it := 0
	for restart := 0; restart < 5; restart++ {
		rn := k.residual(r, x, b)
		if rn <= tol*bn {
			return LinearResult{Status: Converged, Iterations: it, Residual: rn / bn}
		}
		shadow(rhat, r, restart)
		clear(p)
		clear(v)
		rho, alpha, omega := 1.0, 1.0, 1.0
		status := MaxIterations
		for ; it < maxIt; it++ {
			rhoNew := dot(rhat, r)
			if rhoNew == 0 || math.Abs(rhoNew) < 1e-300 {
				status = Breakdown
				break
			}
			beta := (rhoNew / rho) * (alpha / omega)
			for i := range p {
				p[i] = r[i] + beta*(p[i]-omega*v[i])
			}
			k.prec.Apply(phat, p)
			k.mul(v, phat)
			rv := dot(rhat, v)
			if rv == 0 {
				status = Breakdown
				break
			}
			alpha = rhoNew / rv
			for i := range s {
				s[i] = r[i] - alpha*v[i]
			}
			if norm2(s) <= tol*bn {
				for i := range x {
					x[i] += alpha * phat[i]
				}
				it++
				status = Converged
				break
			}
			k.prec.Apply(shat, s)
			k.mul(t, shat)
			tt := dot(t, t)
			if tt == 0 {
				status = Breakdown
				break
			}
			omega = dot(t, s) / tt
			for i := range x {
				x[i] += alpha*phat[i] + omega*shat[i]
				r[i] = s[i] - omega*t[i]
			}
			rn := norm2(r)
			if math.IsNaN(rn) || math.IsInf(rn, 0) {
				status = NotFinite
				break
			}
			if rn <= tol*bn {
				it++
				status = Converged
				break
			}
			if omega == 0 {
				status = Breakdown
				break
			}
			rho = rhoNew
		}
		if status == NotFinite || it >= maxIt {
			return LinearResult{Status: status, Iterations: it, Residual: k.trueResidual(x, b)}
		}
		if status == Breakdown && restart > 0 {
			return LinearResult{Status: status, Iterations: it, Residual: k.trueResidual(x, b)}
		}
		// Converged by the recurrence: confirm with the true residual, and
		// restart from x if the recurrence drifted.
	}
	rr := k.trueResidual(x, b)
	st := MaxIterations
	if rr <= tol {
		st = Converged
	}
	return LinearResult{Status: st, Iterations: it, Residual: rr}
}

func (k *Krylov) gmres(x, b []float64) LinearResult {
	n := k.n
	m := k.Settings.restart()
	tol := k.Settings.tol()
	maxIt := k.Settings.maxIter()
	if len(k.vs) != m+1 || len(k.vs[0]) != n {
		k.vs = make([][]float64, m+1)
		for i := range k.vs {
			k.vs[i] = make([]float64, n)
		}
	}
	k.h = resize(k.h, (m+1)*m)
	k.cs = resize(k.cs, m)
	k.sn = resize(k.sn, m)
	k.gv = resize(k.gv, m+1)
	k.y = resize(k.y, m)
	k.w = resize(k.w, n)
	k.z = resize(k.z, n)
	k.r = resize(k.r, n)
	bn := norm2(b)
	if bn == 0 {
		clear(x)
		return LinearResult{Status: Converged}
	}
	h, cs, sn, g, w, z := k.h, k.cs, k.sn, k.gv, k.w, k.z
	it := 0
	for it < maxIt {
		beta := k.residual(k.r, x, b)
		if beta <= tol*bn {
			return LinearResult{Status: Converged, Iterations: it, Residual: beta / bn}
		}
		if math.IsNaN(beta) || math.IsInf(beta, 0) {
			return LinearResult{Status: NotFinite, Iterations: it, Residual: beta / bn}
		}
		for i := range k.r {
			k.vs[0][i] = k.r[i] / beta
		}
		clear(g)
		g[0] = beta
		j := 0
		for ; j < m && it < maxIt; j++ {
			it++
			k.prec.Apply(z, k.vs[j])
			k.mul(w, z)
			// Modified Gram–Schmidt.
			for i := 0; i <= j; i++ {
				hij := dot(w, k.vs[i])
				h[i*m+j] = hij
				for l := range w {
					w[l] -= hij * k.vs[i][l]
				}
			}
			hn := norm2(w)
			h[(j+1)*m+j] = hn
			if hn != 0 {
				for l := range w {
					k.vs[j+1][l] = w[l] / hn
				}
			}
			// Apply the previous rotations to the new column.
			for i := 0; i < j; i++ {
				a, c := h[i*m+j], h[(i+1)*m+j]
				h[i*m+j] = cs[i]*a + sn[i]*c
				h[(i+1)*m+j] = -sn[i]*a + cs[i]*c
			}
			a, c := h[j*m+j], h[(j+1)*m+j]
			den := math.Hypot(a, c)
			if den == 0 {
				return LinearResult{Status: Breakdown, Iterations: it, Residual: k.trueResidual(x, b)}
			}
			cs[j], sn[j] = a/den, c/den
			h[j*m+j] = den
			h[(j+1)*m+j] = 0
			g[j+1] = -sn[j] * g[j]
			g[j] = cs[j] * g[j]
			if math.Abs(g[j+1]) <= tol*bn || hn == 0 {
				j++
				break
			}
		}
		// Solve the triangular system and update x += M⁻¹ V y.
		y := k.y[:j]
		for i := j - 1; i >= 0; i-- {
			s := g[i]
			for l := i + 1; l < j; l++ {
				s -= h[i*m+l] * y[l]
			}
			y[i] = s / h[i*m+i]
		}
		clear(w)
		for i := 0; i < j; i++ {
			for l := range w {
				w[l] += y[i] * k.vs[i][l]
			}
		}
		k.prec.Apply(z, w)
		for l := range x {
			x[l] += z[l]
		}
	}
	rr := k.trueResidual(x, b)
	st := MaxIterations
	if rr <= tol {
		st = Converged
	}
	return LinearResult{Status: st, Iterations: it, Residual: rr}
}

// SetPreconditioner replaces the preconditioner chosen from Settings; call
// it before Factor.
func (k *Krylov) SetPreconditioner(p Preconditioner) { k.prec = p }

// residual computes r = b − A x and returns ||r||₂.
func (k *Krylov) residual(r, x, b []float64) float64 {
	k.mul(r, x)
	s := 0.0
	for i := range r {
		r[i] = b[i] - r[i]
		s += r[i] * r[i]
	}
	return math.Sqrt(s)
}

// mul computes dst = A x with the fastest layout at hand.
func (k *Krylov) mul(dst, x []float64) {
	if k.useDIA {
		k.dia.mulVec(dst, x)
		return
	}
	mulVec(dst, k.a, x)
}

// shadow sets BiCGSTAB's shadow residual rhat from the residual r: r itself
// on the first start; after a breakdown (or drift) the residual is a poor
// shadow vector — e.g. a right-hand side concentrated on one row that the
// iterate satisfies exactly — so restarts perturb it by a fixed
// pseudo-random vector of the same scale.
func shadow(rhat, r []float64, restart int) {
	if restart == 0 {
		copy(rhat, r)
		return
	}
	u := uint64(0x9e3779b97f4a7c15)
	scale := norm2(r) / math.Sqrt(float64(len(r)))
	for i := range rhat {
		u ^= u << 13
		u ^= u >> 7
		u ^= u << 17
		rhat[i] = r[i] + float64(int64(u>>11))/float64(1<<52)*scale
	}
}
