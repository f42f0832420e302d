package validation

import (
	"fmt"
	"math"

	"github.com/fokkerplanck/fokker/grid"
)

// worker advances one chunk of particles at a time. It owns all its
// buffers, sized once for a full chunk: the time loop allocates nothing.
// Particle state is structure-of-arrays, x[k][i] for coordinate k of
// particle i < n; absorbed particles are compacted away.
type worker struct {
	pl  *plan
	rng wyrand
	n   int

	x, xi, mu [][]float64 // d rows each
	xold      [][]float64 // d rows (absorbing axes only) for the bridge
	dd        [][]float64 // d*d rows: D at x (varying D)
	div       [][]float64 // d rows: div D (when needed)
	ddp, ddm  [][]float64 // d*d rows: D at shifted points (differences)
	shift     []float64   // the shifted coordinate
	xp, mu2   [][]float64 // Heun: predictor and its drift
	dd2, div2 [][]float64 // Heun: D and div D at the predictor
	dead      []bool
	anyDead   bool

	// Views of the buffers cut to n (headers only, rewritten each step).
	xv, xiv, muv, ddv, divv, xpv, mu2v, dd2v, div2v, fdx, ddpv, ddmv [][]float64

	fa, ff, fw []float64 // per-particle factorisation
	pt         []float64 // one position, for observables

	counts        [][]int64 // per snapshot, per cell (order-free integer sums)
	particleSteps int64
}

func newWorker(pl *plan) *worker {
	d, c := pl.d, pl.chunk
	rows := func(m int) [][]float64 {
		r := make([][]float64, m)
		for i := range r {
			r[i] = make([]float64, c)
		}
		return r
	}
	w := &worker{pl: pl}
	w.x, w.xi, w.mu = rows(d), rows(d), rows(d)
	w.dead = make([]bool, c)
	if pl.bridge {
		w.xold = make([][]float64, d)
		for k := 0; k < d; k++ {
			if pl.lowerK[k] == grid.Absorbing || pl.upperK[k] == grid.Absorbing {
				w.xold[k] = make([]float64, c)
			}
		}
	}
	if pl.constF == nil {
		w.dd = rows(d * d)
	}
	if pl.needDiv {
		w.div = rows(d)
		if pl.divExact == nil {
			w.ddp, w.ddm = rows(d*d), rows(d*d)
			w.shift = make([]float64, c)
		}
	}
	if pl.scheme == Heun {
		w.xp, w.mu2 = rows(d), rows(d)
		if pl.constF == nil {
			w.dd2 = rows(d * d)
		}
		if pl.needDiv {
			w.div2 = rows(d)
		}
	}
	w.xv, w.xiv, w.muv = make([][]float64, d), make([][]float64, d), make([][]float64, d)
	w.ddv, w.divv, w.xpv, w.mu2v = make([][]float64, d*d), make([][]float64, d), make([][]float64, d), make([][]float64, d)
	w.dd2v, w.div2v, w.fdx = make([][]float64, d*d), make([][]float64, d), make([][]float64, d)
	w.ddpv, w.ddmv = make([][]float64, d*d), make([][]float64, d*d)
	w.fa, w.ff, w.fw = make([]float64, d*d), make([]float64, d*d), make([]float64, d*d)
	w.pt = make([]float64, d)
	w.counts = make([][]int64, len(pl.times))
	for s := range w.counts {
		w.counts[s] = make([]int64, pl.g.Len())
	}
	return w
}

// view points dst[k] at src[k][:n] for the rows that exist.
func view(dst, src [][]float64, n int) {
	for k := range src {
		if src[k] != nil {
			dst[k] = src[k][:n]
		}
	}
}

// runChunk simulates chunk c from its initial law through all snapshots.
func (w *worker) runChunk(c int) error {
	pl := w.pl
	w.rng = newStream(pl.set.Seed, uint64(c))
	first := c * pl.chunk
	w.n = min(pl.chunk, pl.n-first)
	w.initial(first)
	t := pl.t0
	step := 0
	for s, target := range pl.times {
		for t < target {
			h, land := pl.stepTo(t, target)
			if w.n > 0 {
				w.particleSteps += int64(w.n)
				w.step(t, h)
			}
			if land {
				t = target
			} else {
				t += h
			}
			step++
		}
		if err := w.record(c, s, step); err != nil {
			return err
		}
	}
	return nil
}

// initial fills the chunk's positions: copies of Problem.Positions, or
// draws from the initial cell density (a cell by inversion of the
// cumulative masses, then a uniform point in it).
func (w *worker) initial(first int) {
	pl := w.pl
	if pl.positions != nil {
		for k := range w.x {
			copy(w.x[k][:w.n], pl.positions[k][first:first+w.n])
		}
		return
	}
	total := pl.cum[len(pl.cum)-1]
	for i := 0; i < w.n; i++ {
		u := w.rng.Float64() * total
		lo, hi := 0, len(pl.cum)-1
		for lo < hi { // first cell with cum > u
			m := int(uint(lo+hi) >> 1)
			if pl.cum[m] > u {
				hi = m
			} else {
				lo = m + 1
			}
		}
		cell := lo
		for k := 0; k < pl.d; k++ {
			j := cell / pl.strides[k]
			cell -= j * pl.strides[k]
			e := pl.edges[k]
			w.x[k][i] = e[j] + w.rng.Float64()*(e[j+1]-e[j])
		}
	}
}

// step advances the chunk from t by h.
func (w *worker) step(t, h float64) {
	pl, n := w.pl, w.n
	view(w.xv, w.x, n)
	view(w.xiv, w.xi, n)
	view(w.muv, w.mu, n)
	if pl.bridge {
		for k, row := range w.xold {
			if row != nil {
				copy(row[:n], w.xv[k])
			}
		}
	}
	w.anyDead = false
	switch {
	case pl.fused:
		w.fusedConstDiag(t, h)
	case pl.scheme == Heun:
		for k := range w.xiv {
			w.rng.fillNorm(w.xiv[k])
		}
		w.heun(t, h)
		w.walls()
	default:
		for k := range w.xiv {
			w.rng.fillNorm(w.xiv[k])
		}
		w.euler(t, h)
		w.walls()
	}
	if pl.bridge {
		w.bridge(h)
	}
	if w.anyDead {
		w.compact()
	}
}

// fusedConstDiag is the Euler–Maruyama step for a constant diagonal D (the
// Ornstein–Uhlenbeck fast path): one pass per coordinate draws the normal,
// updates and applies the boundary, with the generator's state in a
// register and, for an affine drift with diagonal A, the drift computed in
// the same pass. It draws the same numbers in the same order and computes
// the same expressions as fillNorm, euler and walls, so it gives the same
// result bit for bit (tested).
func (w *worker) fusedConstDiag(t, h float64) {
	pl := w.pl
	d := pl.d
	sq := math.Sqrt(h)
	if !pl.affDiag {
		w.drift(w.muv, w.xv, w.divv, t)
	}
	for k := 0; k < d; k++ {
		f := sq * pl.constF[k*d+k]
		xk := w.xv[k]
		var mk []float64
		var b, a float64
		if pl.affDiag {
			b, a = pl.affB[k], pl.affA[k*d+k]
		} else {
			mk = w.muv[k][:len(xk)]
		}
		lo, hi := pl.lo[k], pl.hi[k]
		s := w.rng.s
		for i := range xk {
			s += wyInc
			r := wyOut(s)
			z := &zig[r&(zigN-1)]
			j := int64(r) >> 11
			var g float64
			if abs := (j ^ j>>63) - j>>63; abs < z.k {
				g = float64(j) * z.w
			} else {
				w.rng.s = s
				g = w.rng.normSlow(j, r&(zigN-1))
				s = w.rng.s
			}
			x := xk[i]
			var m float64
			if mk != nil {
				m = mk[i]
			} else if a != 0 {
				m = b - a*x
			} else {
				m = b
			}
			v := x + (m*h + f*g) // as x += m*h + f*g in euler
			if v < lo || v >= hi {
				v = w.wall(k, i, v)
			}
			xk[i] = v
		}
		w.rng.s = s
	}
}

// drift writes the scheme's drift mu + aeff div D at (x, t) into mu, using
// div (a d-row buffer) for div D.
func (w *worker) drift(mu, x, div [][]float64, t float64) {
	pl := w.pl
	if pl.affA != nil {
		d := pl.d
		for k := 0; k < d; k++ {
			affineRow(mu[k], x, pl.affB[k], pl.affA[k*d:k*d+d])
		}
	} else {
		pl.c.DriftBatch(mu, x, t)
	}
	if !pl.needDiv {
		return
	}
	w.divergence(div, x, t)
	if a := pl.aeff; a != 0 {
		for k := range mu {
			mk, dk := mu[k], div[k][:len(mu[k])]
			for i := range mk {
				mk[i] += a * dk[i]
			}
		}
	}
}

// divergence writes div D at (x, t) into dst: exactly if the coefficients
// can, else by central differences of DiffusionBatch with steps divStep.
func (w *worker) divergence(dst, x [][]float64, t float64) {
	pl := w.pl
	if pl.divExact != nil {
		pl.divExact.DivergenceBatch(dst, x, t)
		return
	}
	d, n := pl.d, len(x[0])
	for k := range dst {
		clear(dst[k])
	}
	view(w.ddpv, w.ddp, n)
	view(w.ddmv, w.ddm, n)
	sh := w.shift[:n]
	for j := 0; j < d; j++ {
		copy(w.fdx, x)
		w.fdx[j] = sh
		h := pl.divStep[j]
		xj := x[j]
		for i := range sh {
			sh[i] = xj[i] + h
		}
		pl.c.DiffusionBatch(w.ddpv, w.fdx, t)
		for i := range sh {
			sh[i] = xj[i] - h
		}
		pl.c.DiffusionBatch(w.ddmv, w.fdx, t)
		inv := 1 / (2 * h)
		for k := 0; k < d; k++ {
			if pl.props.Diagonal && k != j {
				continue
			}
			dk, p, m := dst[k], w.ddpv[k*d+j], w.ddmv[k*d+j]
			for i := range dk {
				dk[i] += (p[i] - m[i]) * inv
			}
		}
	}
}

// euler takes an Euler–Maruyama (or Milstein) step.
func (w *worker) euler(t, h float64) {
	pl := w.pl
	d, n := pl.d, w.n
	sq := math.Sqrt(h)
	view(w.divv, w.div, n)
	w.drift(w.muv, w.xv, w.divv, t)
	if pl.constF == nil {
		view(w.ddv, w.dd, n)
		pl.c.DiffusionBatch(w.ddv, w.xv, t)
	}
	switch {
	case pl.constDiag:
		for k := 0; k < d; k++ {
			xk, mk, zk := w.xv[k], w.muv[k][:len(w.xv[k])], w.xiv[k][:len(w.xv[k])]
			f := sq * pl.constF[k*d+k]
			for i := range xk {
				xk[i] += mk[i]*h + f*zk[i]
			}
		}
	case pl.constF != nil:
		for k := 0; k < d; k++ {
			xk, mk := w.xv[k], w.muv[k]
			for i := range xk {
				xk[i] += mk[i] * h
			}
			for l := 0; l < d; l++ {
				if f := sq * pl.constF[k*d+l]; f != 0 {
					xl := w.xiv[l][:len(xk)]
					for i := range xk {
						xk[i] += f * xl[i]
					}
				}
			}
		}
	case pl.props.Diagonal:
		for k := 0; k < d; k++ {
			xk, mk, zk := w.xv[k], w.muv[k], w.xiv[k][:len(w.xv[k])]
			dk := w.ddv[k*d+k][:len(xk)]
			if pl.scheme == Milstein {
				gk := w.divv[k][:len(xk)] // ∂_k D_kk = s_k ∂_k s_k
				for i := range xk {
					z := zk[i]
					xk[i] += mk[i]*h + sq*sqrtPos(2*dk[i])*z + 0.5*gk[i]*h*(z*z-1)
				}
				continue
			}
			for i := range xk {
				xk[i] += mk[i]*h + sq*sqrtPos(2*dk[i])*zk[i]
			}
		}
	default:
		a, f := w.fa, w.ff
		for i := 0; i < n; i++ {
			for k := 0; k < d; k++ {
				for l := 0; l <= k; l++ {
					a[k*d+l] = w.ddv[k*d+l][i] + w.ddv[l*d+k][i]
				}
			}
			FactorPSD(f, a, w.fw, d)
			for k := 0; k < d; k++ {
				s := 0.0
				for l := 0; l < d; l++ {
					s += f[k*d+l] * w.xiv[l][i]
				}
				w.xv[k][i] += w.muv[k][i]*h + sq*s
			}
		}
	}
}

// heun takes a stochastic Heun step (D diagonal or constant):
// predictor x̃ = x + a(x,t) h + s(x,t) ΔW, then
// x += ½(a(x,t) + a(x̃,t+h)) h + ½(s(x,t) + s(x̃,t+h)) ΔW.
func (w *worker) heun(t, h float64) {
	pl := w.pl
	d, n := pl.d, w.n
	sq := math.Sqrt(h)
	view(w.divv, w.div, n)
	view(w.xpv, w.xp, n)
	view(w.mu2v, w.mu2, n)
	view(w.div2v, w.div2, n)
	w.drift(w.muv, w.xv, w.divv, t)
	if pl.constF == nil {
		view(w.ddv, w.dd, n)
		view(w.dd2v, w.dd2, n)
		pl.c.DiffusionBatch(w.ddv, w.xv, t)
	}
	// Predictor.
	for k := 0; k < d; k++ {
		xk, pk, mk := w.xv[k], w.xpv[k], w.muv[k]
		for i := range xk {
			pk[i] = xk[i] + mk[i]*h
		}
		if pl.constF != nil {
			for l := 0; l < d; l++ {
				if f := sq * pl.constF[k*d+l]; f != 0 {
					zl := w.xiv[l][:len(pk)]
					for i := range pk {
						pk[i] += f * zl[i]
					}
				}
			}
			continue
		}
		dk, zk := w.ddv[k*d+k][:len(pk)], w.xiv[k][:len(pk)]
		for i := range pk {
			pk[i] += sq * sqrtPos(2*dk[i]) * zk[i]
		}
	}
	// Corrector.
	w.drift(w.mu2v, w.xpv, w.div2v, t+h)
	if pl.constF == nil {
		pl.c.DiffusionBatch(w.dd2v, w.xpv, t+h)
	}
	for k := 0; k < d; k++ {
		xk, mk, m2 := w.xv[k], w.muv[k], w.mu2v[k][:len(w.xv[k])]
		for i := range xk {
			xk[i] += 0.5 * (mk[i] + m2[i]) * h
		}
		if pl.constF != nil {
			for l := 0; l < d; l++ {
				if f := sq * pl.constF[k*d+l]; f != 0 {
					zl := w.xiv[l][:len(xk)]
					for i := range xk {
						xk[i] += f * zl[i]
					}
				}
			}
			continue
		}
		d1, d2, zk := w.ddv[k*d+k][:len(xk)], w.dd2v[k*d+k][:len(xk)], w.xiv[k][:len(xk)]
		for i := range xk {
			s := 0.5 * (sqrtPos(2*d1[i]) + sqrtPos(2*d2[i]))
			xk[i] += sq * s * zk[i]
		}
	}
}

// walls applies the boundaries after a step: wraps periodic axes, mirrors
// at reflecting sides (as often as needed) and absorbs at absorbing sides
// where the step ends outside.
func (w *worker) walls() {
	pl, n := w.pl, w.n
	for k := 0; k < pl.d; k++ {
		lo, hi := pl.lo[k], pl.hi[k]
		xs := w.x[k][:n]
		for i, v := range xs {
			if v < lo || v >= hi {
				xs[i] = w.wall(k, i, v)
			}
		}
	}
}

// wall returns coordinate v of particle i along axis k mapped back into
// the domain, or marks the particle dead (absorbed).
func (w *worker) wall(k, i int, v float64) float64 {
	pl := w.pl
	lo, hi := pl.lo[k], pl.hi[k]
	lk, uk := pl.lowerK[k], pl.upperK[k]
	switch {
	case lk == grid.Periodic:
		l := hi - lo
		v -= l * math.Floor((v-lo)/l)
		if !(v < hi) && v == v {
			v = lo // round-off just below lo wraps to hi
		}
		return v
	case v == hi:
		return v
	case lk == grid.Reflecting && uk == grid.Reflecting:
		return reflect(v, lo, hi)
	}
	nv, dead := mixedWall(v, lo, hi, lk, uk)
	if dead {
		w.dead[i] = true
		w.anyDead = true
	}
	return nv
}

// reflect mirrors v into [lo, hi] at both walls, as often as needed.
func reflect(v, lo, hi float64) float64 {
	l := hi - lo
	if v < lo && v >= lo-l {
		return lo + (lo - v)
	}
	if v > hi && v <= hi+l {
		return hi - (v - hi)
	}
	y := math.Mod(v-lo, 2*l)
	if y < 0 {
		y += 2 * l
	}
	if y > l {
		y = 2*l - y
	}
	return lo + y
}

// mixedWall handles an axis with at least one absorbing side: a particle
// beyond an absorbing side is dead; beyond a reflecting one it is mirrored
// (after which it can only be dead or inside).
func mixedWall(v, lo, hi float64, lk, uk grid.Boundary) (float64, bool) {
	for range 3 {
		switch {
		case v < lo:
			if lk == grid.Absorbing {
				return v, true
			}
			v = lo + (lo - v)
		case v > hi:
			if uk == grid.Absorbing {
				return v, true
			}
			v = hi - (v - hi)
		default:
			return v, false
		}
	}
	return v, !(v >= lo && v <= hi)
}

// bridge absorbs, for each absorbing side at b along axis k, a particle
// that stayed inside over the step with the probability that the Brownian
// bridge between its ends crossed b: exp(−(x0 − b)(x1 − b)/(D_kk h))
// (D_kk at the step's start). This makes absorption weak order 1 (Gobet
// 2001) instead of ½ for killing at the step ends alone (Gobet 2000).
func (w *worker) bridge(h float64) {
	pl, n, d := w.pl, w.n, w.pl.d
	for k := 0; k < d; k++ {
		for side := 0; side < 2; side++ {
			kind, b := pl.lowerK[k], pl.lo[k]
			if side == 1 {
				kind, b = pl.upperK[k], pl.hi[k]
			}
			if kind != grid.Absorbing {
				continue
			}
			x0, x1 := w.xold[k][:n], w.x[k][:n]
			var dk []float64
			if pl.constF == nil {
				dk = w.ddv[k*d+k][:n]
			}
			for i := range x1 {
				if w.dead[i] {
					continue
				}
				dkk := 0.0
				if dk != nil {
					dkk = dk[i]
				} else {
					dkk = pl.constD[k*d+k]
				}
				if !(dkk > 0) {
					continue
				}
				z := (x0[i] - b) * (x1[i] - b) / (dkk * h)
				if z < 37 && w.rng.Float64() < math.Exp(-z) {
					w.dead[i] = true
					w.anyDead = true
				}
			}
		}
	}
}

// compact removes the dead particles, keeping the order of the others.
func (w *worker) compact() {
	j := 0
	for i := 0; i < w.n; i++ {
		if w.dead[i] {
			w.dead[i] = false
			continue
		}
		if j != i {
			for k := range w.x {
				w.x[k][j] = w.x[k][i]
			}
		}
		j++
	}
	w.n = j
}

// cell returns the grid cell of particle i, or −1 if it is outside the
// domain (NaN, infinite).
func (w *worker) cell(i int) (int, int) {
	pl := w.pl
	l := 0
	for k := 0; k < pl.d; k++ {
		v := w.x[k][i]
		if !(v >= pl.lo[k] && v <= pl.hi[k]) {
			return -1, k
		}
		nk := pl.shape[k]
		var j int
		if pl.uniformAx[k] {
			j = int((v - pl.lo[k]) * pl.invWidth[k])
		} else {
			e := pl.edges[k]
			a, b := 0, nk // first edge index > v, minus one
			for a < b {
				m := int(uint(a+b) >> 1)
				if e[m+1] > v {
					b = m
				} else {
					a = m + 1
				}
			}
			j = a
		}
		if j >= nk {
			j = nk - 1
		}
		l += j * pl.strides[k]
	}
	return l, -1
}

// record adds the chunk's particles to the histogram and moment sums of
// snapshot s.
func (w *worker) record(c, s, step int) error {
	pl := w.pl
	d := pl.d
	counts := w.counts[s]
	st := pl.stats[(c*len(pl.times)+s)*pl.statStride:][:pl.statStride]
	st[0] = float64(w.n)
	sx, sxx, so := st[1:1+d], st[1+d:1+d+d*d], st[1+d+d*d:]
	obs := pl.set.Observables
	for i := 0; i < w.n; i++ {
		l, bad := w.cell(i)
		if l < 0 {
			return fmt.Errorf("validation: a particle of chunk %d left the domain (coordinate %d = %v) by t = %g, step %d; the coefficients may be NaN there or the step too large", c, bad, w.x[bad][i], pl.times[s], step)
		}
		counts[l]++
		for k := 0; k < d; k++ {
			w.pt[k] = w.x[k][i]
			dk := w.pt[k] - pl.centre[k]
			sx[k] += dk
			for m := 0; m <= k; m++ {
				sxx[k*d+m] += dk * (w.pt[m] - pl.centre[m])
			}
		}
		for j, f := range obs {
			v := f(w.pt)
			so[2*j] += v
			so[2*j+1] += v * v
		}
	}
	for k := 0; k < d; k++ {
		for m := k + 1; m < d; m++ {
			sxx[k*d+m] = sxx[m*d+k]
		}
	}
	return nil
}
