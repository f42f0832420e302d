package sgd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fokkerplanck/fokker/validation"
)

// ChainSettings configures Simulate. A nil *ChainSettings means the zero
// value, whose every field documents its default.
type ChainSettings struct {
	// Chains is the number of independent chains (zero value: 20000).
	Chains int
	// Record lists the step counts (≥ 0, strictly increasing) after which
	// every chain's position is histogrammed; step 0 is the start (zero
	// value: {1000}).
	Record []int
	// Pool accumulates every record into one histogram (stationary checks
	// thinned along the chains), instead of one histogram per record.
	Pool bool
	// Seed of the random streams (zero value: 0, a valid seed).
	Seed uint64
	// Threads is the number of goroutines (zero value: GOMAXPROCS).
	Threads int
	// ChunkSize is the number of chains that share one random stream and
	// are advanced together (zero value: 1024). Results depend on Seed and
	// ChunkSize, not on Threads.
	ChunkSize int
	// Initial is a density on the grid from which starting points are
	// drawn: a cell with probability p_l V_l, then uniformly inside it. If
	// nil, every chain starts at Start.
	Initial []float64
	// Start is the starting point when Initial is nil (zero value: the
	// origin).
	Start []float64
	// KeepPositions keeps every recorded position (ChainResult.Positions).
	KeepPositions bool
	// SDESubsteps, if positive, runs the first-order SDE instead of SGD:
	// every SGD step of eta becomes SDESubsteps Euler–Maruyama steps of
	// eta/SDESubsteps with the drift −∇L and the diffusion D of the model
	// (see Simulate).
	SDESubsteps int
}

// Histogram counts recorded chain positions on the grid.
type Histogram struct {
	// Step is the step count of the record (the last one when pooled); its
	// time is Step·eta.
	Step int
	// Records is the number of positions recorded: chains × records.
	Records int64
	// Counts[l] is the number of positions in cell l.
	Counts []int64
	// Escaped counts finite positions outside the grid (SGD runs on the
	// whole parameter space; the grid is a box around the mass).
	Escaped int64
	// Diverged counts positions that are not finite.
	Diverged int64
}

// InBox returns the number of positions inside the grid.
func (h *Histogram) InBox() int64 { return h.Records - h.Escaped - h.Diverged }

// EscapedFraction returns the fraction of positions outside the grid,
// diverged ones included.
func (h *Histogram) EscapedFraction() float64 {
	return float64(h.Escaped+h.Diverged) / float64(h.Records)
}

// ChainResult is the outcome of Simulate.
type ChainResult struct {
	// Histograms, one per record, or one if pooled.
	Histograms []Histogram
	// Positions[k] holds coordinate k of every record (chain-major: chain
	// c's record r at c·len(Record) + r) when KeepPositions.
	Positions [][]float64
	// Chains and Steps (the last record) of the run.
	Chains, Steps int
	// ChainSteps is the number of SGD updates performed.
	ChainSteps int64
	Threads    int
	Duration   time.Duration
}

// Simulate runs independent chains of minibatch SGD on the landscape's loss
// and data,
//
//	theta_{k+1} = theta_k − eta (1/n) sum_{i in B_k} ∇u(theta_k, X_i),
//
// with batches B_k drawn as c.Sampling says, and histograms their positions
// on the landscape's grid at the steps s.Record (time Step·eta). c.Modified
// is ignored. With c.FreezeAt the chains follow SGD with frozen noise, the
// process of the frozen Fokker–Planck model:
//
//	theta_{k+1} = theta_k − eta [∇L(theta_k) + (1/n) sum_{i in B_k} ∇u(theta0, X_i) − ∇L(theta0)],
//
// real minibatch noise taken at theta0, with the mean gradient ∇L(theta)
// interpolated multilinearly between the cell centres (error O(h²)).
//
// With s.SDESubsteps > 0 the chains are instead an Euler–Maruyama ensemble
// of the first-order SDE, d theta = −∇L dt + sqrt(2D) dW with D = (eta/2n) f
// Σ (Σ at c.FreezeAt when frozen), its coefficients interpolated
// multilinearly between the cell centres like the frozen chains' mean
// gradient: a grid-free reference for the density but for that O(h²), and
// for the step's weak error O(eta/SDESubsteps).
//
// Chains are split into chunks of s.ChunkSize, each with its own stream
// rand.NewPCG(s.Seed, chunk) and advanced by one goroutine; histograms are
// integer counts, so the result is a function of the settings, whatever
// the number of threads. The step loop does not allocate. ctx cancellation
// stops the run with ctx.Err().
func (ls *Landscape) Simulate(ctx context.Context, c Config, s *ChainSettings) (*ChainResult, error) {
	start := time.Now()
	if err := c.check(ls); err != nil {
		return nil, err
	}
	var set ChainSettings
	if s != nil {
		set = *s
	}
	if set.Chains == 0 {
		set.Chains = 20000
	}
	if set.Record == nil {
		set.Record = []int{1000}
	}
	if set.ChunkSize == 0 {
		set.ChunkSize = 1024
	}
	if set.Threads <= 0 {
		set.Threads = runtime.GOMAXPROCS(0)
	}
	switch {
	case set.Chains < 0:
		return nil, fmt.Errorf("sgd: %d chains", set.Chains)
	case set.ChunkSize < 1:
		return nil, fmt.Errorf("sgd: chunk size %d", set.ChunkSize)
	case len(set.Record) == 0:
		return nil, errors.New("sgd: no record steps")
	}
	for i, r := range set.Record {
		if r < 0 || (i > 0 && r <= set.Record[i-1]) {
			return nil, fmt.Errorf("sgd: record steps must be non-negative and increasing (entry %d = %d)", i, r)
		}
	}
	d := ls.d
	g := ls.g
	if set.Initial != nil && len(set.Initial) != g.Len() {
		return nil, fmt.Errorf("sgd: initial density has %d values for %d cells", len(set.Initial), g.Len())
	}
	if set.Initial == nil && set.Start != nil && len(set.Start) != d {
		return nil, fmt.Errorf("sgd: start point has %d coordinates, want %d", len(set.Start), d)
	}
	if set.Start == nil {
		set.Start = make([]float64, d)
	}
	sim := &simulation{ls: ls, c: c, set: set, n: c.BatchSize, eta: c.LearningRate}
	if set.Initial != nil {
		sim.cum = make([]float64, g.Len())
		acc := 0.0
		for l, p := range set.Initial {
			if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
				return nil, fmt.Errorf("sgd: initial density is %v in cell %d", p, l)
			}
			acc += p * g.Volume(l)
			sim.cum[l] = acc
		}
		if !(acc > 0) {
			return nil, errors.New("sgd: initial density has no mass")
		}
		for l := range sim.cum {
			sim.cum[l] /= acc
		}
	}
	if set.SDESubsteps < 0 {
		return nil, fmt.Errorf("sgd: %d SDE substeps", set.SDESubsteps)
	}
	if c.FreezeAt != nil {
		var ps pointStats
		w := ls.newWorkspace()
		if err := ls.stats(w, c.FreezeAt, wantGrad|wantCov, &ps); err != nil {
			return nil, err
		}
		sim.grad0 = ps.grad
		sim.cov0 = ps.cov
	}
	nh := 1
	if !set.Pool {
		nh = len(set.Record)
	}
	res := &ChainResult{Chains: set.Chains, Steps: set.Record[len(set.Record)-1], Threads: set.Threads}
	if set.KeepPositions {
		res.Positions = alloc2(d, set.Chains*len(set.Record))
	}
	sim.res = res
	chunks := (set.Chains + set.ChunkSize - 1) / set.ChunkSize
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := make([]*chainWorker, min(set.Threads, max(chunks, 1)))
	var firstErr error
	var errOnce sync.Once
	for wi := range workers {
		w := sim.newWorker(nh)
		workers[wi] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ci := int(next.Add(1)) - 1
				if ci >= chunks {
					return
				}
				if err := w.runChunk(ctx, ci); err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(chunks))
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	res.Histograms = make([]Histogram, nh)
	for h := range res.Histograms {
		hist := &res.Histograms[h]
		hist.Counts = make([]int64, g.Len())
		if set.Pool {
			hist.Step = set.Record[len(set.Record)-1]
		} else {
			hist.Step = set.Record[h]
		}
		for _, w := range workers {
			wh := &w.hist[h]
			for l, v := range wh.Counts {
				hist.Counts[l] += v
			}
			hist.Records += wh.Records
			hist.Escaped += wh.Escaped
			hist.Diverged += wh.Diverged
		}
	}
	for _, w := range workers {
		res.ChainSteps += w.steps
	}
	res.Duration = time.Since(start)
	return res, nil
}

type simulation struct {
	ls    *Landscape
	c     Config
	set   ChainSettings
	n     int
	eta   float64
	cum   []float64 // cumulative initial cell probabilities
	grad0 [maxDim]float64
	cov0  [maxDim * (maxDim + 1) / 2]float64
	res   *ChainResult
}

// chainWorker advances chunks of chains; all its buffers are made once.
type chainWorker struct {
	sim   *simulation
	theta [][]float64 // [k][chain]
	gsum  [][]float64 // [k][chain]
	gbuf  []float64
	idx   [][]int32   // [slot][chain]
	gath  [][]float64 // gathered data columns [column][chain]
	cols  [][]float64 // expression columns
	cols0 [][]float64 // expression columns with theta0 (frozen)
	mark  []uint32    // without-replacement stamps, per data row
	stamp uint32
	hist  []Histogram
	steps int64
	x     []float64
}

func (sim *simulation) newWorker(nh int) *chainWorker {
	ls := sim.ls
	C := sim.set.ChunkSize
	d := ls.d
	w := &chainWorker{sim: sim}
	w.theta = alloc2(d, C)
	w.gsum = alloc2(d, C)
	w.gbuf = make([]float64, C)
	w.idx = make([][]int32, sim.n)
	for j := range w.idx {
		w.idx[j] = make([]int32, C)
	}
	w.gath = alloc2(len(ls.cols), C)
	w.cols = make([][]float64, ls.loss.NumVars())
	for k := 0; k < d; k++ {
		w.cols[k] = w.theta[k]
	}
	for j := range ls.cols {
		w.cols[d+j] = w.gath[j]
	}
	if sim.c.FreezeAt != nil {
		w.cols0 = make([][]float64, len(w.cols))
		copy(w.cols0, w.cols)
		for k := 0; k < d; k++ {
			w.cols0[k] = []float64{sim.c.FreezeAt[k]}
		}
	}
	if sim.c.Sampling == WithoutReplacement {
		w.mark = make([]uint32, ls.data.Len())
	}
	w.hist = make([]Histogram, nh)
	for h := range w.hist {
		w.hist[h].Counts = make([]int64, ls.g.Len())
	}
	w.x = make([]float64, d)
	return w
}

// bounded returns a uniform integer in [0, n) (Lemire's method, unbiased).
func bounded(r *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

func uniform01(r *rand.PCG) float64 { return float64(r.Uint64()>>11) / (1 << 53) }

func (w *chainWorker) runChunk(ctx context.Context, ci int) error {
	sim := w.sim
	ls := sim.ls
	g := ls.g
	d := ls.d
	set := &sim.set
	first := ci * set.ChunkSize
	C := min(set.ChunkSize, set.Chains-first)
	rng := rand.NewPCG(set.Seed, uint64(ci))
	// Starting points.
	for c := 0; c < C; c++ {
		if sim.cum == nil {
			for k := 0; k < d; k++ {
				w.theta[k][c] = set.Start[k]
			}
			continue
		}
		u := uniform01(rng)
		l := sort.SearchFloat64s(sim.cum, u)
		if l >= len(sim.cum) {
			l = len(sim.cum) - 1
		}
		for sim.cum[l] == 0 || (l > 0 && sim.cum[l] == sim.cum[l-1]) {
			l++ // skip empty cells (u fell on a tie)
		}
		for k := 0; k < d; k++ {
			e := g.Edges(k)
			i := (l / g.Strides()[k]) % g.Shape()[k]
			w.theta[k][c] = e[i] + (e[i+1]-e[i])*uniform01(rng)
		}
	}
	N := uint64(ls.data.Len())
	n := sim.n
	scale := sim.eta / float64(n)
	theta := w.theta[:d]
	cols := w.cols
	for k := 0; k < d; k++ {
		theta[k] = w.theta[k][:C]
		cols[k] = theta[k]
	}
	gath := w.gath
	for j := range gath {
		gath[j] = w.gath[j][:C]
		cols[d+j] = gath[j]
	}
	if w.cols0 != nil {
		for j := range gath {
			w.cols0[d+j] = gath[j]
		}
	}
	gbuf := w.gbuf[:C]
	var nr *rand.Rand // normal variates of the SDE ensemble, from rng
	rec := 0
	step := 0
	for rec < len(set.Record) {
		for step == set.Record[rec] {
			w.record(ci, first, C, rec)
			rec++
			if rec == len(set.Record) {
				break
			}
		}
		if rec == len(set.Record) {
			break
		}
		if step&255 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if set.SDESubsteps > 0 {
			if nr == nil {
				nr = rand.New(rng)
			}
			w.sdeStep(nr, C)
			w.steps += int64(C)
			step++
			continue
		}
		// Batches: every chain draws its n rows, chain by chain.
		if sim.c.Sampling == WithoutReplacement {
			for c := 0; c < C; c++ {
				w.stamp++
				if w.stamp == 0 { // wrapped: clear the stamps
					clear(w.mark)
					w.stamp = 1
				}
				// Floyd's algorithm: a uniform n-subset.
				for j := 0; j < n; j++ {
					top := N - uint64(n) + uint64(j)
					t := bounded(rng, top+1)
					if w.mark[t] == w.stamp {
						t = top
					}
					w.mark[t] = w.stamp
					w.idx[j][c] = int32(t)
				}
			}
		} else {
			for c := 0; c < C; c++ {
				for j := 0; j < n; j++ {
					w.idx[j][c] = int32(bounded(rng, N))
				}
			}
		}
		for k := 0; k < d; k++ {
			clear(w.gsum[k][:C])
		}
		for j := 0; j < n; j++ {
			ix := w.idx[j][:C]
			for m, col := range ls.cols {
				gm := gath[m]
				for c, i := range ix {
					gm[c] = col[i]
				}
			}
			ev := cols
			if w.cols0 != nil {
				ev = w.cols0 // noise at theta0
			}
			for k := 0; k < d; k++ {
				ls.loss.Grad[k].EvalBatch(gbuf, ev)
				gs := w.gsum[k][:C]
				for c, v := range gbuf {
					gs[c] += v
				}
			}
		}
		if w.cols0 == nil {
			for k := 0; k < d; k++ {
				tk, gs := theta[k], w.gsum[k][:C]
				for c := range tk {
					tk[c] -= scale * gs[c]
				}
			}
		} else {
			var mean [maxDim]float64
			for c := 0; c < C; c++ {
				for k := 0; k < d; k++ {
					w.x[k] = theta[k][c]
				}
				var cr corners
				cr.at(ls, w.x)
				cr.apply(mean[:d], ls.grad)
				for k := 0; k < d; k++ {
					theta[k][c] -= sim.eta * (mean[k] + w.gsum[k][c]/float64(n) - sim.grad0[k])
				}
			}
		}
		w.steps += int64(C)
		step++
	}
	return nil
}

// record histograms the positions of chunk ci's C chains as record rec.
func (w *chainWorker) record(ci, first, C, rec int) {
	sim := w.sim
	g := sim.ls.g
	d := sim.ls.d
	h := &w.hist[0]
	if !sim.set.Pool {
		h = &w.hist[rec]
	}
	strides := g.Strides()
	for c := 0; c < C; c++ {
		h.Records++
		l := 0
		inside := true
		finite := true
		for k := 0; k < d; k++ {
			x := w.theta[k][c]
			if math.IsNaN(x) || math.IsInf(x, 0) {
				finite = false
				break
			}
			e := g.Edges(k)
			if x < e[0] || x > e[len(e)-1] {
				inside = false
				continue
			}
			i := sort.SearchFloat64s(e, x) - 1 // e[i] < x <= e[i+1]
			if i < 0 {
				i = 0
			}
			l += i * strides[k]
		}
		switch {
		case !finite:
			h.Diverged++
		case !inside:
			h.Escaped++
		default:
			h.Counts[l]++
		}
		if sim.res.Positions != nil {
			at := (first+c)*len(sim.set.Record) + rec
			for k := 0; k < d; k++ {
				sim.res.Positions[k][at] = w.theta[k][c]
			}
		}
	}
}

// sdeStep advances the chunk's C chains by one SGD step of eta as
// sim.set.SDESubsteps Euler–Maruyama steps of the first-order SDE.
func (w *chainWorker) sdeStep(rng *rand.Rand, C int) {
	sim := w.sim
	ls := sim.ls
	d := ls.d
	m := sim.set.SDESubsteps
	h := sim.eta / float64(m)
	// The step's noise has covariance 2 D h = (eta f/n) Σ h.
	amp := math.Sqrt(sim.eta * sim.c.NoiseFactor(ls.data.Len()) / float64(sim.n) * h)
	var mean [maxDim]float64
	var cov [maxDim * (maxDim + 1) / 2]float64
	var a, f, work [maxDim * maxDim]float64
	var z [maxDim]float64
	var cr corners
	frozen := sim.c.FreezeAt != nil
	if frozen { // one factor for every step
		fillSym(a[:d*d], sim.cov0[:ls.nh], d, 1)
		validation.FactorPSD(f[:d*d], a[:d*d], work[:d*d], d)
	}
	for s := 0; s < m; s++ {
		for c := 0; c < C; c++ {
			for k := 0; k < d; k++ {
				w.x[k] = w.theta[k][c]
			}
			cr.at(ls, w.x)
			cr.apply(mean[:d], ls.grad)
			if !frozen {
				cr.apply(cov[:ls.nh], ls.cov)
				fillSym(a[:d*d], cov[:ls.nh], d, 1)
				validation.FactorPSD(f[:d*d], a[:d*d], work[:d*d], d)
			}
			for k := 0; k < d; k++ {
				z[k] = rng.NormFloat64()
			}
			for i := 0; i < d; i++ {
				v := 0.0
				for k := 0; k < d; k++ {
					v += f[i*d+k] * z[k]
				}
				w.theta[i][c] += -h*mean[i] + amp*v
			}
		}
	}
}

// corners are the cell centres around a point and their multilinear
// interpolation weights.
type corners struct {
	n   int
	idx [1 << maxDim]int
	wgt [1 << maxDim]float64
}

// at sets the corners of x: multilinear interpolation between the cell
// centres, extrapolated linearly beyond the outer centres. Uniform axes
// find their interval directly, others by bisection.
func (cr *corners) at(ls *Landscape, x []float64) {
	g := ls.g
	d := ls.d
	var i0 [maxDim]int
	var wt [maxDim]float64
	var single [maxDim]bool
	for k := 0; k < d; k++ {
		c := g.Centres(k)
		if len(c) == 1 {
			single[k] = true
			continue
		}
		var i int
		if h := ls.centreStep[k]; h > 0 {
			i = int(math.Floor((x[k] - c[0]) / h))
		} else {
			i = sort.SearchFloat64s(c, x[k]) - 1
		}
		i = max(0, min(i, len(c)-2))
		i0[k] = i
		wt[k] = (x[k] - c[i]) / (c[i+1] - c[i])
	}
	strides := g.Strides()
	cr.n = 0
	for corner := 0; corner < 1<<d; corner++ {
		w := 1.0
		l := 0
		for k := 0; k < d; k++ {
			ik := i0[k]
			if corner>>k&1 == 1 {
				if single[k] {
					w = 0
					break
				}
				w *= wt[k]
				ik++
			} else {
				w *= 1 - wt[k]
			}
			l += ik * strides[k]
		}
		if w != 0 {
			cr.idx[cr.n], cr.wgt[cr.n] = l, w
			cr.n++
		}
	}
}

// apply writes the interpolated values of tables ([component][cell]) into
// dst.
func (cr *corners) apply(dst []float64, tables [][]float64) {
	for m := range dst {
		t := tables[m]
		v := 0.0
		for j := 0; j < cr.n; j++ {
			v += cr.wgt[j] * t[cr.idx[j]]
		}
		dst[m] = v
	}
}
