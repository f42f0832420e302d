package validation

import (
	"errors"
	"fmt"
	"math"
)

// WeakStudy is the outcome of WeakOrder: the weak error of a smooth
// observable at several time steps and the order fitted to it.
type WeakStudy struct {
	// Dts are the time steps, as given.
	Dts []float64
	// Values are the estimates of E f(X_T) at each step, with their
	// sampling standard errors.
	Values []Estimate
	// Bias are Values − exact when the exact value is known; otherwise the
	// differences Values[i] − Values[i+1] between successive steps (one
	// fewer), which behave like C dt_i^q when the steps shrink by a
	// constant ratio. Standard errors treat the runs as independent (they
	// share the seed, so they are positively correlated and the errors are
	// overstated).
	Bias []Estimate
	// Resolved reports which biases exceed three standard errors. Only
	// resolved biases carry information about the order.
	Resolved []bool
	// Order is the slope q of log|bias| against log dt by weighted least
	// squares (weights (bias/stderr)², the inverse variance of log|bias|),
	// and OrderErr its standard error, inflated by sqrt(chi²/(n − 2)) when
	// the points scatter more than their errors say (the steps are then
	// not all in the asymptotic range). NaN with fewer than two usable
	// points.
	Order, OrderErr float64
}

// String returns a one-line summary such as "weak order 1.02 ± 0.04 (4
// steps)".
func (w *WeakStudy) String() string {
	return fmt.Sprintf("weak order %.3g ± %.2g (%d steps)", w.Order, w.OrderErr, len(w.Dts))
}

// WeakOrder measures the weak error of the observable f at the last
// snapshot time of p, simulating p at each time step dts[i] (with the same
// seed: the initial ensembles are identical, which removes their sampling
// noise from the differences), against exact, or, if exact is NaN, between
// successive steps. The bias at a step must stand out of the sampling
// noise, sqrt(Var f/N), to be measurable: choose the particle count so that
// the finest step's bias is several standard errors (the fitted order's
// uncertainty grows as the biases sink into the noise).
func WeakOrder(p Problem, s *Settings, f func(x []float64) float64, exact float64, dts []float64) (*WeakStudy, error) {
	if len(dts) < 2 {
		return nil, errors.New("validation: a weak-order study needs at least two time steps")
	}
	var set Settings
	if s != nil {
		set = *s
	}
	set.Observables = append(append([]func([]float64) float64(nil), set.Observables...), f)
	k := len(set.Observables) - 1
	w := &WeakStudy{Dts: append([]float64(nil), dts...)}
	for _, dt := range dts {
		set.Dt = dt
		r, err := Simulate(p, &set)
		if err != nil {
			return nil, fmt.Errorf("validation: weak study at dt = %g: %w", dt, err)
		}
		w.Values = append(w.Values, r.Snapshots[len(r.Snapshots)-1].Observables[k])
	}
	var xs []float64
	if !math.IsNaN(exact) {
		for i, v := range w.Values {
			w.Bias = append(w.Bias, Estimate{v.Value - exact, v.StdErr})
			xs = append(xs, math.Log(dts[i]))
		}
	} else {
		for i := 0; i+1 < len(w.Values); i++ {
			a, b := w.Values[i], w.Values[i+1]
			w.Bias = append(w.Bias, Estimate{a.Value - b.Value, math.Hypot(a.StdErr, b.StdErr)})
			xs = append(xs, math.Log(dts[i]))
		}
	}
	var ys, ws []float64
	var fx []float64
	for i, b := range w.Bias {
		ok := math.Abs(b.Value) > 3*b.StdErr
		w.Resolved = append(w.Resolved, ok)
		if b.Value == 0 {
			continue
		}
		fx = append(fx, xs[i])
		ys = append(ys, math.Log(math.Abs(b.Value)))
		r := b.Value / b.StdErr
		ws = append(ws, r*r)
	}
	w.Order, w.OrderErr = weightedSlope(fx, ys, ws)
	return w, nil
}

// weightedSlope fits y = a + q x by weighted least squares and returns q
// and its standard error (scaled up by the reduced chi-square when it
// exceeds one).
func weightedSlope(x, y, w []float64) (q, se float64) {
	n := len(x)
	if n < 2 {
		return math.NaN(), math.NaN()
	}
	var sw, sx, sy float64
	for i := range x {
		sw += w[i]
		sx += w[i] * x[i]
		sy += w[i] * y[i]
	}
	mx, my := sx/sw, sy/sw
	var sxx, sxy float64
	for i := range x {
		dx := x[i] - mx
		sxx += w[i] * dx * dx
		sxy += w[i] * dx * (y[i] - my)
	}
	q = sxy / sxx
	se = math.Sqrt(1 / sxx)
	if n > 2 {
		chi2 := 0.0
		for i := range x {
			r := y[i] - my - q*(x[i]-mx)
			chi2 += w[i] * r * r
		}
		if red := chi2 / float64(n-2); red > 1 {
			se *= math.Sqrt(red)
		}
	}
	return q, se
}
