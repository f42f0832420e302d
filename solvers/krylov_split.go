package solvers

import (
	"math"
	"runtime"
	"time"
)

// bicgstabSplit is BiCGSTAB on the split preconditioned system
// (I + L′)⁻¹ A′ (I + U′)⁻¹ y = (I + L′)⁻¹ P⁻¹ r₀ for the correction x − x₀,
// applied with Eisenstat's trick (AxisILU0): two triangular sweeps per
// product and no product with A. Its recurrence residual r′ is
// (I + L′)⁻¹ P⁻¹ times that of A x = b; it stops on the latter,
// ||P (I + L′) r′|| ≤ tol ||b||, computed whenever ||r′|| times the last
// observed ratio of the two norms comes near the tolerance, and confirms it
// with b − A x at the end, as bicgstab does.
//
// The sweeps, products and vector operations run on two goroutines (see
// forkJoin) when the grid allows it; every sum is formed in the same order
// either way, so the iterates do not depend on the number of processors.
func (k *Krylov) bicgstabSplit(pc *AxisILU0, x, b []float64) LinearResult {
	n := k.n
	tol := k.Settings.tol()
	maxIt := k.Settings.maxIter()
	for _, w := range []*[]float64{&k.rhat, &k.p, &k.v, &k.t, &k.phat, &k.shat} {
		*w = resize(*w, n)
	}
	rhat, p, v, t := k.rhat, k.p, k.v, k.t
	// r′, and the split system's iterate. s = r′ − α v overwrites r′,
	// which the iteration needs no more until r′ = s − ω t.
	rt, dx := k.phat, k.shat
	s := rt
	bn := norm2(b)
	if bn == 0 {
		clear(x)
		return LinearResult{Status: Converged}
	}
	if k.fork.tasks == nil {
		k.vecID = k.fork.register(k.vecHalf)
	}
	it := 0
	mode := k.pickMode(pc)
	if mode == 1 {
		pc.setFork(&k.fork)
		k.fork.start()
		defer k.fork.end()
	}
	start := time.Now()
	defer func() { k.timeMode(mode, time.Since(start), it) }()
	thr := tol * bn
	for restart := 0; restart < 5; restart++ {
		// r′ = (I + L′)⁻¹ P⁻¹ (b − A x).
		rn := math.Sqrt(k.vec(jobResidual, rt, x, b, pc.inv, 0, 0))
		if rn <= thr {
			return LinearResult{Status: Converged, Iterations: it, Residual: rn / bn}
		}
		pc.lower(rt, rt)
		q := rn / norm2(rt) // ||r|| / ||r′||, updated at each exact check
		shadow(rhat, rt, restart)
		// p, v and dx start at zero: the first iteration writes them
		// instead of updating them (k.first).
		k.first = true
		rho, alpha, omega := 1.0, 1.0, 1.0
		rhoNew := k.vec(jobDot, rhat, rt, nil, nil, 0, 0)
		status := MaxIterations
		for ; it < maxIt; it++ {
			if rhoNew == 0 || math.Abs(rhoNew) < 1e-300 {
				status = Breakdown
				break
			}
			beta := (rhoNew / rho) * (alpha / omega)
			k.vec(jobP, nil, nil, nil, nil, beta, omega)
			pc.eisenstat(v, p)
			rv := k.vec(jobDot, rhat, v, nil, nil, 0, 0)
			if rv == 0 {
				status = Breakdown
				break
			}
			alpha = rhoNew / rv
			sn := math.Sqrt(k.vec(jobS, nil, nil, nil, nil, alpha, 0))
			if k.splitConverged(pc, s, sn, &q, thr) {
				k.vec(jobAXPY, dx, p, nil, nil, alpha, 0)
				k.first = false
				it++
				status = Converged
				break
			}
			pc.eisenstat(t, s)
			tt := k.vec(jobTT, nil, nil, nil, nil, 0, 0)
			if tt == 0 {
				status = Breakdown
				break
			}
			omega = k.part[0][1] + k.part[1][1] // (t, s)
			omega /= tt
			rho = rhoNew
			rn := math.Sqrt(k.vec(jobUpdate, nil, nil, nil, nil, alpha, omega))
			k.first = false
			rhoNew = k.part[0][1] + k.part[1][1] // (r̂, r′) for the next iteration
			if math.IsNaN(rn) || math.IsInf(rn, 0) {
				status = NotFinite
				break
			}
			if k.splitConverged(pc, rt, rn, &q, thr) {
				it++
				status = Converged
				break
			}
			if omega == 0 {
				status = Breakdown
				break
			}
		}
		if k.first {
			// Stopped before the first update: x stays.
			k.first = false
			if status == NotFinite || it >= maxIt || status == Breakdown && restart > 0 {
				return LinearResult{Status: status, Iterations: it, Residual: k.splitResidual(pc, x, b) / bn}
			}
			continue
		}
		// x += (I + U′)⁻¹ dx; the next pass starts by checking b − A x.
		pc.upper(dx, dx)
		k.vec(jobAXPY, x, dx, nil, nil, 1, 0)
		if status == NotFinite || it >= maxIt {
			return LinearResult{Status: status, Iterations: it, Residual: k.splitResidual(pc, x, b) / bn}
		}
		if status == Breakdown && restart > 0 {
			return LinearResult{Status: status, Iterations: it, Residual: k.splitResidual(pc, x, b) / bn}
		}
	}
	rr := k.splitResidual(pc, x, b) / bn
	st := MaxIterations
	if rr <= tol {
		st = Converged
	}
	return LinearResult{Status: st, Iterations: it, Residual: rr}
}

// pickMode returns 1 to run this solve on two goroutines, 0 for one. Both
// give the same iterates to the last bit, so the choice is only about time:
// whether a second processor pays depends on the machine (it does not when
// the two share one core) and on what else runs on it, so Krylov times both
// — each solve's time per iteration — and takes the faster, trying the
// other one now and then to follow changes.
func (k *Krylov) pickMode(pc *AxisILU0) int {
	if !pc.parallel() || runtime.GOMAXPROCS(0) < 2 {
		return 0
	}
	k.solves++
	switch {
	case k.modeRuns[0] < 2 || k.modeRuns[1] < 2:
		return k.solves % 2
	case k.solves%32 == 0:
		// Explore the slower mode.
		if k.modeTime[0] <= k.modeTime[1] {
			return 1
		}
		return 0
	case k.modeTime[1] < k.modeTime[0]:
		return 1
	}
	return 0
}

// timeMode records the duration d of a solve of it iterations in mode
// (pickMode), as an exponential average of the time per iteration (the
// fixed costs of a solve count as two iterations).
func (k *Krylov) timeMode(mode int, d time.Duration, it int) {
	per := float64(d) / float64(it+2)
	if k.modeRuns[mode] == 0 {
		k.modeTime[mode] = per
	} else {
		k.modeTime[mode] += 0.3 * (per - k.modeTime[mode])
	}
	k.modeRuns[mode]++
}

// splitConverged reports whether the split residual r′ (of norm rn) stands
// for a residual of A x = b of norm at most thr. It computes that norm only
// when rn times q, the ratio of the two norms last observed, is within a
// factor 3 of thr, and then updates q.
func (k *Krylov) splitConverged(pc *AxisILU0, r []float64, rn float64, q *float64, thr float64) bool {
	if rn == 0 {
		return true
	}
	if rn**q > 3*thr {
		return false
	}
	e := math.Sqrt(k.vec(jobResidualNorm, r, nil, nil, nil, 0, 0))
	*q = e / rn
	return e <= thr
}

// splitResidual returns ||b − A x||₂ (t is its scratch vector: it is free
// once the iteration has stopped).
func (k *Krylov) splitResidual(pc *AxisILU0, x, b []float64) float64 {
	return math.Sqrt(k.vec(jobResidual, k.t, x, b, pc.inv, 0, 0))
}

// Vector operations of bicgstabSplit, run in two halves of the rows (see
// vec).
const (
	jobDot          = iota // (x, y)
	jobAXPY                // x += a y (x = a y on the first iteration)
	jobResidual            // x = (z − A y) w (w: per row); ||z − A y||²
	jobResidualNorm        // ||P (I + L′) x||²
	jobP                   // p = r′ + a (p − b v) (p = r′ on the first)
	jobS                   // s = r′ − a v, in place of r′; ||s||²
	jobTT                  // (t, t); (t, s) in part[·][1]
	jobUpdate              // dx += a p + b s (dx = … on the first), r′ = s − b t; ||r′||²; (r̂, r′) in part[·][1]
)

// vec runs the vector operation job on the halves [0, n/2) and [n/2, n) of
// the rows — on two goroutines when the fork runs — and returns the sum of
// the halves' first partial results, part[0][0] + part[1][0]: the same sums
// in the same order either way.
func (k *Krylov) vec(job int, x, y, z, w []float64, a, b float64) float64 {
	k.job, k.jx, k.jy, k.jz, k.jw, k.ja, k.jb = job, x, y, z, w, a, b
	k.fork.run(k.vecID)
	return k.part[0][0] + k.part[1][0]
}

func (k *Krylov) vecHalf(h int) {
	lo, hi := 0, k.n/2
	if h == 1 {
		lo, hi = k.n/2, k.n
	}
	a, b := k.ja, k.jb
	var s0, s1 float64
	switch k.job {
	case jobDot:
		s0 = dot4(k.jx[lo:hi], k.jy[lo:hi])
	case jobAXPY:
		x, y := k.jx[lo:hi], k.jy[lo:hi]
		y = y[:len(x)]
		if k.first {
			for i := range x {
				x[i] = a * y[i]
			}
			break
		}
		for i := range x {
			x[i] += a * y[i]
		}
	case jobResidual:
		if k.useDIA {
			s0 = k.dia.residualRows(k.jx, k.jy, k.jz, k.jw, lo, hi)
			break
		}
		raw := k.a.RawMatrix()
		mulRows(k.jx, raw.Indptr, raw.Ind, raw.Data, k.jy, lo, hi)
		r, bb, w := k.jx[lo:hi], k.jz[lo:hi], k.jw[lo:hi]
		bb, w = bb[:len(r)], w[:len(r)]
		for i := range r {
			d := bb[i] - r[i]
			s0 += d * d
			r[i] = d * w[i]
		}
	case jobResidualNorm:
		s0 = k.split.residualNormRows(k.jx, lo, hi)
	case jobP:
		p, rt, v := k.p[lo:hi], k.phat[lo:hi], k.v[lo:hi]
		if k.first {
			copy(p, rt)
			break
		}
		rt, v = rt[:len(p)], v[:len(p)]
		for i := range p {
			p[i] = rt[i] + a*(p[i]-b*v[i])
		}
	case jobS:
		s0 = subDot(k.phat[lo:hi], k.v[lo:hi], a)
	case jobTT:
		s0, s1 = dot2(k.t[lo:hi], k.phat[lo:hi])
	case jobUpdate:
		// s and r′ share k.phat.
		s0, s1 = update(k.shat[lo:hi], k.p[lo:hi], k.phat[lo:hi], k.t[lo:hi], k.rhat[lo:hi], a, b, k.first)
	}
	k.part[h] = [2]float64{s0, s1}
}

// dot4 returns x·y summed in four interleaved partial sums (the latency of
// one addition per element, not four, bounds its speed).
func dot4(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dot2 returns x·x and x·y summed as dot4 does, in one pass.
func dot2(x, y []float64) (float64, float64) {
	y = y[:len(x)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		x0, x1, x2, x3 := x[i], x[i+1], x[i+2], x[i+3]
		a0 += x0 * x0
		a1 += x1 * x1
		a2 += x2 * x2
		a3 += x3 * x3
		b0 += x0 * y[i]
		b1 += x1 * y[i+1]
		b2 += x2 * y[i+2]
		b3 += x3 * y[i+3]
	}
	for ; i < len(x); i++ {
		a0 += x[i] * x[i]
		b0 += x[i] * y[i]
	}
	return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)
}

// subDot computes s −= a v and returns s·s, summed as dot4 does, in one
// pass.
func subDot(s, v []float64, a float64) float64 {
	v = v[:len(s)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(s); i += 4 {
		e0, e1, e2, e3 := s[i]-a*v[i], s[i+1]-a*v[i+1], s[i+2]-a*v[i+2], s[i+3]-a*v[i+3]
		s[i], s[i+1], s[i+2], s[i+3] = e0, e1, e2, e3
		s0 += e0 * e0
		s1 += e1 * e1
		s2 += e2 * e2
		s3 += e3 * e3
	}
	for ; i < len(s); i++ {
		s[i] -= a * v[i]
		s0 += s[i] * s[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// update computes dx += a p + b s (dx = a p + b s if first) and s −= b t,
// and returns s·s and r̂·s, summed as dot4 does, in one pass.
func update(dx, p, s, t, rhat []float64, a, b float64, first bool) (float64, float64) {
	if first {
		clear(dx)
	}
	p, s, t, rhat = p[:len(dx)], s[:len(dx)], t[:len(dx)], rhat[:len(dx)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	i := 0
	for ; i+4 <= len(dx); i += 4 {
		dx[i] += a*p[i] + b*s[i]
		dx[i+1] += a*p[i+1] + b*s[i+1]
		dx[i+2] += a*p[i+2] + b*s[i+2]
		dx[i+3] += a*p[i+3] + b*s[i+3]
		e0, e1, e2, e3 := s[i]-b*t[i], s[i+1]-b*t[i+1], s[i+2]-b*t[i+2], s[i+3]-b*t[i+3]
		s[i], s[i+1], s[i+2], s[i+3] = e0, e1, e2, e3
		a0 += e0 * e0
		a1 += e1 * e1
		a2 += e2 * e2
		a3 += e3 * e3
		b0 += rhat[i] * e0
		b1 += rhat[i+1] * e1
		b2 += rhat[i+2] * e2
		b3 += rhat[i+3] * e3
	}
	for ; i < len(dx); i++ {
		dx[i] += a*p[i] + b*s[i]
		s[i] -= b * t[i]
		a0 += s[i] * s[i]
		b0 += rhat[i] * s[i]
	}
	return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)
}
