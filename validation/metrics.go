package validation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/fokkerplanck/fokker/grid"
)

// Criteria set the verdict of Compare. A nil *Criteria means the zero
// value, whose every field documents its default.
type Criteria struct {
	// L1Ratio is the largest accepted L1 distance in units of its noise
	// floor (zero value: 1.5; see the package documentation for why).
	L1Ratio float64
	// MinPValue is the smallest accepted p-value of the chi-square test and,
	// with absorbing sides, of the survival test (zero value: 1e-3).
	MinPValue float64
	// KSReplicates is the number of Monte Carlo replicates of the
	// Brownian bridge that calibrate the grouped Kolmogorov–Smirnov
	// statistic in 1D (zero value: 4000; negative: skip the KS test).
	KSReplicates int
}

func (c *Criteria) defaults() Criteria {
	var r Criteria
	if c != nil {
		r = *c
	}
	if r.L1Ratio <= 0 {
		r.L1Ratio = 1.5
	}
	if r.MinPValue <= 0 {
		r.MinPValue = 1e-3
	}
	if r.KSReplicates == 0 {
		r.KSReplicates = 4000
	}
	return r
}

// Comparison is a PDE density set against a particle histogram on the same
// grid, each statistic with its noise floor: its distribution when the N
// particles are an exact sample of the PDE's cell probabilities
// P_i = p_i V_i (multinomial sampling).
type Comparison struct {
	// Particles is N, Cells is K.
	Particles int64
	Cells     int
	// SubProbability reports that the grid has absorbing sides: P_i are then
	// not normalised, and the absorbed fraction is a category of its own.
	SubProbability bool
	// Mass is the PDE mass sum_i p_i V_i.
	Mass float64
	// Survival is the particles' surviving fraction, SurvivalErr its
	// binomial standard error under the PDE, sqrt(m(1 − m)/N), and
	// SurvivalPValue the two-sided normal p-value of the difference (1 when
	// nothing is absorbed).
	Survival, SurvivalErr, SurvivalPValue float64

	// L1 is sum_i |n_i/N − P_i|; L1Floor is its exact expectation under
	// multinomial sampling, sum_i E|n_i − N P_i|/N from de Moivre's closed
	// form of the binomial mean absolute deviation; L1FloorSD its standard
	// deviation (neglecting the weak negative correlation between cells).
	L1, L1Floor, L1FloorSD float64
	// Hellinger2 is the squared Hellinger distance
	// ½ sum (sqrt(n_i/N) − sqrt(P_i))², and Hellinger2Floor its expectation
	// under sampling (≈ (K − 1)/(8N) when every N P_i is large).
	Hellinger2, Hellinger2Floor float64
	// KS is the Kolmogorov–Smirnov distance max_j |F̂_j − F_j| between the
	// cumulative sums over the cells (1D grids; NaN otherwise). KSFloor is
	// its expectation and KSCritical its 95% quantile under sampling, and
	// KSPValue its p-value, from Monte Carlo replicates of the Brownian
	// bridge at the points F_j (the grouped statistic is smaller than the
	// continuous one, whose Kolmogorov quantiles would be conservative).
	KS, KSFloor, KSCritical, KSPValue float64
	// ChiSquare is Pearson's statistic over groups of consecutive cells
	// (in linear order) pooled until each expects at least 5 particles,
	// plus the absorbed category; ChiSquareDF = groups − 1 (P is fully
	// specified: no parameter is fitted), ChiSquarePValue its upper tail.
	ChiSquare       float64
	ChiSquareDF     int
	ChiSquarePValue float64

	// Consistent is the verdict: L1 ≤ L1Ratio × L1Floor, and the
	// chi-square and survival p-values at least MinPValue.
	Consistent bool
	criteria   Criteria
}

// Ratio returns L1/L1Floor.
func (c *Comparison) Ratio() float64 { return c.L1 / c.L1Floor }

// String returns a one-line report such as
// "L1 0.0121, noise floor 0.0118 (ratio 1.03); chi² 4012.3 on 4095 df, p = 0.83: consistent".
func (c *Comparison) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "L1 %.4g, noise floor %.4g (ratio %.3g)", c.L1, c.L1Floor, c.Ratio())
	fmt.Fprintf(&b, "; chi² %.1f on %d df, p = %.3g", c.ChiSquare, c.ChiSquareDF, c.ChiSquarePValue)
	if !math.IsNaN(c.KS) {
		fmt.Fprintf(&b, "; KS %.3g (floor %.3g, p = %.3g)", c.KS, c.KSFloor, c.KSPValue)
	}
	if c.SubProbability {
		fmt.Fprintf(&b, "; survival %.5f vs PDE mass %.5f ± %.2g (p = %.3g)", c.Survival, c.Mass, c.SurvivalErr, c.SurvivalPValue)
	}
	if c.Consistent {
		b.WriteString(": consistent")
	} else {
		b.WriteString(": INCONSISTENT")
		var why []string
		if c.L1 > c.criteria.L1Ratio*c.L1Floor {
			why = append(why, fmt.Sprintf("L1 above %.3g× floor", c.criteria.L1Ratio))
		}
		if c.ChiSquarePValue < c.criteria.MinPValue {
			why = append(why, fmt.Sprintf("chi² p below %.3g", c.criteria.MinPValue))
		}
		if c.SubProbability && c.SurvivalPValue < c.criteria.MinPValue {
			why = append(why, "survival off")
		}
		if len(why) > 0 {
			b.WriteString(" (" + strings.Join(why, ", ") + ")")
		}
	}
	return b.String()
}

// Compare sets the PDE density p (cell values on g) against the histogram
// of snapshot s (recorded on g) and returns the statistics, their noise
// floors and the verdict. With absorbing sides on g, P_i = p_i V_i are taken
// as they are (sub-probabilities; the survival is compared with the mass),
// otherwise they are normalised by the mass.
func Compare(g *grid.Grid, p []float64, s *Snapshot, c *Criteria) Comparison {
	if len(p) != g.Len() || len(s.Counts) != g.Len() {
		panic("validation: density, snapshot and grid disagree")
	}
	cr := c.defaults()
	K := g.Len()
	N := s.Particles
	res := Comparison{Particles: N, Cells: K, SubProbability: g.HasAbsorbing(), criteria: cr}
	P := make([]float64, K)
	m := 0.0
	for i, v := range p {
		P[i] = math.Max(v, 0) * g.Volume(i)
		m += P[i]
	}
	res.Mass = m
	if !res.SubProbability {
		for i := range P {
			P[i] /= m
		}
	}
	fn := float64(N)
	// Probabilities of all categories: cells, then the absorbed one.
	dead := 0.0
	alive := int64(0)
	for _, n := range s.Counts {
		alive += n
	}
	if res.SubProbability {
		dead = math.Max(1-m, 0)
	}
	res.Survival = float64(alive) / fn

	// L1 and its floor.
	for i, n := range s.Counts {
		res.L1 += math.Abs(float64(n)/fn - P[i])
	}
	res.L1Floor, res.L1FloorSD = L1Floor(P, N)

	// Hellinger, with the absorbed category when there is one.
	for i, n := range s.Counts {
		d := math.Sqrt(float64(n)/fn) - math.Sqrt(P[i])
		res.Hellinger2 += 0.5 * d * d
	}
	res.Hellinger2Floor = Hellinger2Floor(P, N)
	if res.SubProbability {
		d := math.Sqrt(1-res.Survival) - math.Sqrt(dead)
		res.Hellinger2 += 0.5 * d * d
		res.Hellinger2Floor += 0.5 * sqrtDev(N, dead)
	}

	// Survival.
	res.SurvivalPValue = 1
	if res.SubProbability {
		res.SurvivalErr = math.Sqrt(m * (1 - m) / fn)
		if res.SurvivalErr > 0 {
			z := (res.Survival - m) / res.SurvivalErr
			res.SurvivalPValue = math.Erfc(math.Abs(z) / math.Sqrt2)
		} else if float64(alive) != math.Round(m*fn) {
			res.SurvivalPValue = 0
		}
	}

	// Chi-square over pooled groups.
	res.ChiSquare, res.ChiSquareDF = chiSquare(s.Counts, P, N, dead, N-alive, res.SubProbability)
	res.ChiSquarePValue = 1
	if res.ChiSquareDF > 0 {
		res.ChiSquarePValue = distuv.ChiSquared{K: float64(res.ChiSquareDF)}.Survival(res.ChiSquare)
	}

	// Kolmogorov–Smirnov (1D).
	res.KS, res.KSFloor, res.KSCritical, res.KSPValue = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if g.Dim() == 1 && cr.KSReplicates > 0 {
		res.KS, res.KSFloor, res.KSCritical, res.KSPValue = groupedKS(s.Counts, P, N, dead, cr.KSReplicates)
	}

	res.Consistent = res.L1 <= cr.L1Ratio*res.L1Floor && res.ChiSquarePValue >= cr.MinPValue &&
		(!res.SubProbability || res.SurvivalPValue >= cr.MinPValue)
	return res
}

// chiSquare returns Pearson's statistic and its degrees of freedom over
// consecutive cells pooled until each group expects at least 5 particles
// (a final short group joins the previous one), plus the absorbed category
// (its own group if it expects 5 or more, else pooled with the last).
func chiSquare(counts []int64, P []float64, n int64, dead float64, nDead int64, sub bool) (float64, int) {
	fn := float64(n)
	x2 := 0.0
	groups := 0
	var e, o float64 // open group
	var le, lo float64
	haveLast := false
	flush := func() {
		if haveLast {
			x2 += (lo - le) * (lo - le) / le
			groups++
		}
		le, lo, haveLast = e, o, true
		e, o = 0, 0
	}
	for i, c := range counts {
		e += fn * P[i]
		o += float64(c)
		if e >= 5 {
			flush()
		}
	}
	if sub {
		e += fn * dead
		o += float64(nDead)
		if e >= 5 {
			flush()
		}
	}
	// Remaining short group joins the last one.
	le += e
	lo += o
	if le > 0 {
		x2 += (lo - le) * (lo - le) / le
		groups++
	} else if lo > 0 {
		// Particles where the PDE has no mass at all.
		x2 = math.Inf(1)
		groups++
	}
	return x2, groups - 1
}

// groupedKS returns the KS distance of the cumulative cell sums and, from
// r Brownian-bridge replicates at the same points, its mean, 95% quantile
// and p-value under multinomial sampling.
func groupedKS(counts []int64, P []float64, n int64, dead float64, r int) (ks, floor, crit, pval float64) {
	fn := float64(n)
	var fh, f float64
	for i, c := range counts {
		fh += float64(c) / fn
		f += P[i]
		ks = math.Max(ks, math.Abs(fh-f))
	}
	// Replicates: W(F_j) − F_j W(1) with independent Gaussian increments
	// of variance P_i (and dead for the absorbed category), divided by
	// sqrt(N): the limit of the multinomial cumulative sums.
	rng := rand.New(rand.NewPCG(1, 0))
	sd := make([]float64, len(P))
	for i, p := range P {
		sd[i] = math.Sqrt(p)
	}
	total := f + dead
	w := make([]float64, len(P))
	draws := make([]float64, r)
	exceed := 0
	sum := 0.0
	for k := 0; k < r; k++ {
		acc := 0.0
		for i := range w {
			acc += sd[i] * rng.NormFloat64()
			w[i] = acc
		}
		w1 := acc + math.Sqrt(dead)*rng.NormFloat64()
		cum, mx := 0.0, 0.0
		for i := range w {
			cum += P[i]
			mx = math.Max(mx, math.Abs(w[i]-cum/total*w1))
		}
		mx /= math.Sqrt(fn)
		draws[k] = mx
		sum += mx
		if mx >= ks {
			exceed++
		}
	}
	floor = sum / float64(r)
	crit = quantile(draws, 0.95)
	pval = float64(exceed+1) / float64(r+1)
	return ks, floor, crit, pval
}

// quantile returns the q-quantile of x (sorted in place).
func quantile(x []float64, q float64) float64 {
	slices.Sort(x)
	i := int(math.Ceil(q*float64(len(x)))) - 1
	return x[max(i, 0)]
}

// L1Floor returns the expectation and standard deviation of
// sum_i |n_i/N − P_i| when n is multinomial(N, P) (P may sum to less than
// one: the rest is a category left out of the sum). The expectation is
// exact: each term is a binomial mean absolute deviation, by de Moivre's
// formula. The standard deviation neglects the covariances between cells
// (negative, of relative size 1/K).
func L1Floor(P []float64, n int64) (mean, sd float64) {
	fn := float64(n)
	v := 0.0
	for _, p := range P {
		a := BinomialMAD(n, p) / fn
		mean += a
		v += math.Max(p*(1-p)/fn-a*a, 0)
	}
	return mean, math.Sqrt(v)
}

// BinomialMAD returns E|X − np| for X ~ Binomial(n, p), by de Moivre's
// closed form 2 ν C(n, ν) p^ν (1 − p)^(n − ν + 1) with ν = ⌊np⌋ + 1
// (Diaconis & Zabell 1991). For large np it tends to sqrt(2 n p (1 − p)/π).
func BinomialMAD(n int64, p float64) float64 {
	if !(p > 0) || !(p < 1) || n <= 0 {
		return 0
	}
	fn := float64(n)
	nu := math.Floor(fn*p) + 1
	if nu > fn {
		return 0
	}
	l1, _ := math.Lgamma(fn + 1)
	l2, _ := math.Lgamma(nu + 1)
	l3, _ := math.Lgamma(fn - nu + 1)
	lg := l1 - l2 - l3 + nu*math.Log(p) + (fn-nu+1)*math.Log1p(-p)
	return 2 * nu * math.Exp(lg)
}

// Hellinger2Floor returns the expectation of ½ sum_i (sqrt(n_i/N) −
// sqrt(P_i))² when n is multinomial(N, P), cell by cell: exact binomial
// sums where N P_i ≤ 1000, and the expansion
// (1 − P)/(4N) − (q(1 − 2P)/8 − 15q²/64)/(N² P), q = 1 − P, beyond (relative
// error O((N P)^-2), 1e-6 at the switch). For large N P_i it is ≈ (K − 1)/(8N).
func Hellinger2Floor(P []float64, n int64) float64 {
	s := 0.0
	for _, p := range P {
		s += 0.5 * sqrtDev(n, p)
	}
	return s
}

// sqrtDev returns E(sqrt(X/n) − sqrt(p))² for X ~ Binomial(n, p).
func sqrtDev(n int64, p float64) float64 {
	if !(p > 0) || n <= 0 {
		return 0
	}
	if p >= 1 {
		return 0
	}
	fn := float64(n)
	mu := fn * p
	q := 1 - p
	if mu > 1000 {
		return q/(4*fn) - (q*(1-2*p)/8-15*q*q/64)/(fn*mu)
	}
	// Sum pmf(k) (sqrt(k/n) − sqrt(p))² outwards from the mode, by the
	// recursion pmf(k+1) = pmf(k) (n − k)/(k + 1) p/q, until the terms
	// are negligible.
	mode := math.Min(math.Floor((fn+1)*p), fn)
	l1, _ := math.Lgamma(fn + 1)
	l2, _ := math.Lgamma(mode + 1)
	l3, _ := math.Lgamma(fn - mode + 1)
	pm := math.Exp(l1 - l2 - l3 + mode*math.Log(p) + (fn-mode)*math.Log1p(-p))
	ratio := p / q
	sp := math.Sqrt(p)
	term := func(k float64) float64 {
		d := math.Sqrt(k/fn) - sp
		return d * d
	}
	sum := pm * term(mode)
	pk := pm
	for k := mode; k < fn; k++ {
		pk *= (fn - k) / (k + 1) * ratio
		sum += pk * term(k+1)
		if pk < 1e-18*pm {
			break
		}
	}
	pk = pm
	for k := mode; k > 0; k-- {
		pk *= k / (fn - k + 1) / ratio
		sum += pk * term(k-1)
		if pk < 1e-18*pm {
			break
		}
	}
	return sum
}
