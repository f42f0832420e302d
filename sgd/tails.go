package sgd

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Quadratic1D describes a one-parameter loss that is quadratic in theta:
// the per-sample gradient is g_i(theta) = h_i theta − c_i with h_i the
// per-sample curvature. For such losses both the Fokker–Planck stationary
// density and the tail of the SGD chain are known in closed form (up to a
// root or a quadrature); see docs/sgd.md.
type Quadratic1D struct {
	// H and C are h_i and c_i for every data row.
	H, C []float64
	// MeanH = E h, VarH = Var h, CovHC = Cov(h, c), VarC = Var c, over the
	// data (divisor N).
	MeanH, VarH, CovHC, VarC float64
	// ThetaStar is the minimum of the mean loss, E c / E h.
	ThetaStar float64
}

// Quadratic1D returns the curvature and offset of every data row, or an
// error if the loss is not quadratic in a single parameter.
func (ls *Landscape) Quadratic1D() (*Quadratic1D, error) {
	if ls.d != 1 {
		return nil, fmt.Errorf("sgd: tail exponents need one parameter, the loss has %d", ls.d)
	}
	if !ls.loss.Quadratic() {
		return nil, fmt.Errorf("sgd: tail exponents need a loss quadratic in %s (its second derivative %s depends on it)", ls.loss.theta[0], ls.loss.Hess[0])
	}
	w := ls.newWorkspace()
	n := ls.data.Len()
	q := &Quadratic1D{H: make([]float64, n), C: make([]float64, n)}
	w.theta[0][0] = 0
	ls.loss.Hess[0].EvalBatch(q.H, w.cols)
	ls.loss.Grad[0].EvalBatch(q.C, w.cols)
	for i := range q.C {
		q.C[i] = -q.C[i]
		if math.IsNaN(q.H[i]+q.C[i]) || math.IsInf(q.H[i]+q.C[i], 0) {
			return nil, fmt.Errorf("sgd: curvature or gradient not finite for data row %d", i+1)
		}
	}
	fn := float64(n)
	mh, mc := sum(q.H)/fn, sum(q.C)/fn
	q.MeanH = mh
	for i := range q.H {
		dh, dc := q.H[i]-mh, q.C[i]-mc
		q.VarH += dh * dh
		q.CovHC += dh * dc
		q.VarC += dc * dc
	}
	q.VarH /= fn
	q.CovHC /= fn
	q.VarC /= fn
	if !(mh > 0) {
		return nil, fmt.Errorf("sgd: mean curvature %g: the mean loss has no minimum", mh)
	}
	q.ThetaStar = mc / mh
	return q, nil
}

// TailIndexFP returns the tail index of the first-order SDE's stationary
// density: with mu = −E h (theta − theta*) and D ≈ (eta/2n) f Var h theta²
// for large |theta|, the zero-flux density p ∝ D^-1 exp(∫ mu/D) decays
// like |theta|^-(1 + alpha) with
//
//	alpha_FP = 1 + 2 n E h / (eta f Var h),
//
// so P(|theta − theta*| > z) ~ z^-alpha_FP. It is +Inf when Var h = 0.
func (q *Quadratic1D) TailIndexFP(c Config) float64 {
	s := c.Scale(len(q.H))
	if q.VarH == 0 || s == 0 {
		return math.Inf(1)
	}
	return 1 + q.MeanH/(s*q.VarH)
}

// LogDensityFP returns the logarithm (up to a constant) of the first-order
// SDE's stationary density on the whole line, in closed form:
// D = s (Var h (theta − m)² + r) with m = Cov(h,c)/Var h and
// r = Var c − Cov(h,c)²/Var h, and
//
//	ln p = −(1 + E h/(2 s Var h)) ln(Var h y² + r) − (E h b/(s sqrt(Var h r))) atan(y sqrt(Var h/r)),
//
// y = theta − m, b = m − theta*.
func (q *Quadratic1D) LogDensityFP(c Config, theta float64) float64 {
	s := c.Scale(len(q.H))
	a := q.MeanH
	if q.VarH <= 0 {
		// Constant noise: Gaussian.
		return -a * (theta - q.ThetaStar) * (theta - q.ThetaStar) / (2 * s * q.VarC)
	}
	m := q.CovHC / q.VarH
	r := math.Max(q.VarC-q.CovHC*q.CovHC/q.VarH, 1e-300)
	y := theta - m
	b := m - q.ThetaStar
	v := -(1 + a/(2*s*q.VarH)) * math.Log(q.VarH*y*y+r)
	v -= a * b / (s * math.Sqrt(q.VarH*r)) * math.Atan(y*math.Sqrt(q.VarH/r))
	return v
}

// Kesten returns the tail index of SGD's own stationary law: the chain is
// the random affine recursion z' = A z + B with A = 1 − eta (1/n) sum_B h_i,
// whose stationary law has P(|z| > t) ~ t^-alpha with alpha the positive
// root of
//
//	E |A|^alpha = 1
//
// (Kesten 1973; Goldie 1991; Gürbüzbalaban, Şimşekli & Zhu 2021). The
// expectation is over the batches of the finite data set: exact for n = 1;
// for n > 1 the distribution of the batch-mean curvature is the n-fold
// convolution of the data's, computed on 4096 bins that keep each bin's
// mean (error O(bin²)); batches without replacement are treated as with
// replacement (the difference is O(n/N)). alpha is +Inf when |A| ≤ 1 for
// every batch (the chain then stays bounded: no power-law tail). An error
// is returned when E log|A| ≥ 0 (no stationary law).
func (q *Quadratic1D) Kesten(c Config) (float64, error) {
	vals, probs := q.batchCurvature(c.BatchSize)
	logA := make([]float64, 0, len(vals))
	lp := make([]float64, 0, len(vals))
	eLog := 0.0
	canGrow := false
	for i, h := range vals {
		a := math.Abs(1 - c.LearningRate*h)
		if probs[i] <= 0 {
			continue
		}
		if a == 0 {
			continue // contributes 0 to E|A|^alpha for alpha > 0
		}
		la := math.Log(a)
		if la > 0 {
			canGrow = true
		}
		logA = append(logA, la)
		lp = append(lp, math.Log(probs[i]))
		eLog += probs[i] * la
	}
	if eLog >= 0 {
		return math.NaN(), fmt.Errorf("sgd: E log|1 − eta h| = %.3g ≥ 0: SGD at eta = %g has no stationary law", eLog, c.LearningRate)
	}
	if !canGrow {
		return math.Inf(1), nil
	}
	// phi(alpha) = log E|A|^alpha is convex, phi(0) = 0 (up to the mass at
	// A = 0), phi'(0) = E log|A| < 0, phi → +Inf: one positive root.
	phi := func(alpha float64) float64 {
		m := math.Inf(-1)
		for i := range logA {
			m = math.Max(m, lp[i]+alpha*logA[i])
		}
		s := 0.0
		for i := range logA {
			s += math.Exp(lp[i] + alpha*logA[i] - m)
		}
		return m + math.Log(s)
	}
	lo, hi := 0.0, 1.0
	for phi(hi) < 0 {
		lo = hi
		hi *= 2
		if hi > 1e9 {
			return math.Inf(1), nil
		}
	}
	for i := 0; i < 200 && hi-lo > 1e-12*hi; i++ {
		mid := 0.5 * (lo + hi)
		if phi(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return 0.5 * (lo + hi), nil
}

// batchCurvature returns the distribution of the batch-mean curvature
// (1/n) sum_B h_i: exact for n = 1, binned convolution otherwise.
func (q *Quadratic1D) batchCurvature(n int) (vals, probs []float64) {
	N := len(q.H)
	if n == 1 {
		vals = slices.Clone(q.H)
		probs = make([]float64, N)
		for i := range probs {
			probs[i] = 1 / float64(N)
		}
		return vals, probs
	}
	lo, hi := slices.Min(q.H), slices.Max(q.H)
	const bins = 4096
	if hi == lo {
		return []float64{lo}, []float64{1}
	}
	w := (hi - lo) / bins
	// One draw: mass and mass-weighted position per bin.
	m1 := make([]float64, bins+1)
	x1 := make([]float64, bins+1)
	for _, h := range q.H {
		b := int((h - lo) / w)
		b = min(max(b, 0), bins)
		m1[b] += 1 / float64(N)
		x1[b] += h / float64(N)
	}
	mass, pos := slices.Clone(m1), slices.Clone(x1) // distribution of the sum of k draws
	for k := 2; k <= n; k++ {
		nb := k*bins + 1
		nm := make([]float64, nb)
		np := make([]float64, nb)
		base := float64(k) * lo
		for a, ma := range mass {
			if ma == 0 {
				continue
			}
			xa := pos[a] / ma
			for b, mb := range m1 {
				if mb == 0 {
					continue
				}
				x := xa + x1[b]/mb
				t := int((x - base) / w)
				t = min(max(t, 0), nb-1)
				p := ma * mb
				nm[t] += p
				np[t] += p * x
			}
		}
		mass, pos = nm, np
	}
	for i, m := range mass {
		if m > 0 {
			vals = append(vals, pos[i]/m/float64(n))
			probs = append(probs, m)
		}
	}
	return vals, probs
}

// HillIndex returns the tail index estimated from the sample z (|theta −
// theta*| values) above the threshold u: the maximum-likelihood (Hill)
// estimate alpha = k / sum_{z_i > u} log(z_i/u) of a Pareto tail, its
// standard error alpha/sqrt(k), and k.
func HillIndex(z []float64, u float64) (alpha, se float64, k int) {
	s := 0.0
	for _, v := range z {
		if v > u {
			s += math.Log(v / u)
			k++
		}
	}
	if k == 0 || s == 0 {
		return math.NaN(), math.NaN(), k
	}
	alpha = float64(k) / s
	return alpha, alpha / math.Sqrt(float64(k)), k
}

// foldedFP tabulates the first-order SDE's stationary density of
// z = |theta − theta*| on a log-spaced grid z_i = z0 e^(i h): w_i is the
// density in log z, z p_z(z), relative to the density at theta*; total is
// its integral.
func (q *Quadratic1D) foldedFP(c Config) (zs, ws []float64, h, total, ref float64) {
	ts := q.ThetaStar
	lp := func(z float64) float64 {
		return logSumExp(q.LogDensityFP(c, ts+z), q.LogDensityFP(c, ts-z))
	}
	// Scale: the stationary spread near the minimum.
	s := c.Scale(len(q.H))
	sd := math.Sqrt(s*math.Max(q.VarC-q.CovHC*q.CovHC/math.Max(q.VarH, 1e-300), 0)/q.MeanH) + 1e-12
	ref = lp(0)
	const per = 400 // points per factor e
	h = 1.0 / per
	z0 := sd * 1e-4
	for t := 0.0; ; t += h {
		z := z0 * math.Exp(t)
		w := math.Exp(lp(z)-ref) * z
		zs = append(zs, z)
		ws = append(ws, w)
		if (z > 10*sd && w < 1e-300) || t > 400 {
			break
		}
	}
	for i := 0; i+1 < len(zs); i++ {
		total += 0.5 * h * (ws[i] + ws[i+1])
	}
	total += ws[0] // below z0: density ≈ constant, mass ≈ p(0) z0 = w_0
	return zs, ws, h, total, ref
}

// DensityFP returns the first-order SDE's stationary density on the whole
// line, normalised (LogDensityFP and a quadrature of its folded tail).
func (q *Quadratic1D) DensityFP(c Config) func(theta float64) float64 {
	_, _, _, total, ref := q.foldedFP(c)
	return func(theta float64) float64 {
		return math.Exp(q.LogDensityFP(c, theta)-ref) / total
	}
}

// TailFP returns, for the first-order SDE's stationary density on the whole
// line (LogDensityFP), the threshold u at which P(|theta − theta*| > u) =
// 1 − quantile, and the same Hill functional as HillIndex evaluated
// exactly: alpha(u) = P(z > u) / E[log(z/u); z > u]. It tends to
// TailIndexFP as u grows.
func (q *Quadratic1D) TailFP(c Config, quantile float64) (u, alpha float64, err error) {
	if !(quantile > 0 && quantile < 1) {
		return 0, 0, errors.New("sgd: tail quantile must be in (0, 1)")
	}
	zs, ws, h, total, _ := q.foldedFP(c)
	// Cumulative mass from the far end (the tail), trapezoids in log z.
	tail := make([]float64, len(zs))
	for i := len(zs) - 2; i >= 0; i-- {
		tail[i] = tail[i+1] + 0.5*h*(ws[i]+ws[i+1])
	}
	target := (1 - quantile) * total
	i := 0
	for i < len(tail)-1 && tail[i+1] > target {
		i++
	}
	f := (tail[i] - target) / (tail[i] - tail[i+1])
	u = zs[i] * math.Exp(f*h)
	num, den := 0.0, 0.0
	for j := 0; j+1 < len(zs); j++ {
		za, zb := zs[j], zs[j+1]
		if zb <= u {
			continue
		}
		la, lb := math.Log(za/u), math.Log(zb/u)
		wa, wb := ws[j], ws[j+1]
		width := h
		if za < u {
			frac := math.Log(zb/u) / h
			wa = wa + (wb-wa)*(1-frac)
			la = 0
			width = frac * h
		}
		den += 0.5 * width * (wa + wb)
		num += 0.5 * width * (wa*la + wb*lb)
	}
	if num <= 0 {
		return u, math.NaN(), errors.New("sgd: tail integral vanished")
	}
	return u, den / num, nil
}

func logSumExp(a, b float64) float64 {
	m := math.Max(a, b)
	if math.IsInf(m, -1) {
		return m
	}
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m))
}
