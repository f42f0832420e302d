package validation

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fokkerplanck/fokker/grid"
	"github.com/fokkerplanck/fokker/operators"
)

// Scheme is a time-stepping scheme for the particles.
type Scheme int

const (
	// Auto picks the scheme that matches the convention: Euler–Maruyama
	// for Itô and anti-Itô, Heun for Stratonovich when D is diagonal or
	// constant (Euler–Maruyama otherwise).
	Auto Scheme = iota
	// EulerMaruyama is X += (mu + alpha div D) dt + sigma sqrt(dt) xi with
	// sigma sigmaᵀ = 2D: weak order 1 for every convention and any D.
	EulerMaruyama
	// Milstein adds ½ ∂_k D_kk (ΔW_k² − dt) to Euler–Maruyama, the diagonal
	// Milstein term for sigma_k = sqrt(2 D_kk): strong order 1 when D_kk
	// depends on x_k only, weak order 1. D must be diagonal or constant.
	Milstein
	// Heun is the stochastic Heun predictor–corrector, which converges to
	// the Stratonovich reading of the noise; for the other conventions
	// (alpha − ½) div D is added to its drift. D must be diagonal or
	// constant.
	Heun
)

// String returns "auto", "euler-maruyama", "milstein" or "heun".
func (s Scheme) String() string {
	switch s {
	case Auto:
		return "auto"
	case EulerMaruyama:
		return "euler-maruyama"
	case Milstein:
		return "milstein"
	case Heun:
		return "heun"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// ParseScheme returns the scheme named s.
func ParseScheme(s string) (Scheme, error) {
	switch s {
	case "", "auto":
		return Auto, nil
	case "euler-maruyama", "euler", "em":
		return EulerMaruyama, nil
	case "milstein":
		return Milstein, nil
	case "heun", "stochastic-heun":
		return Heun, nil
	}
	return 0, fmt.Errorf("validation: unknown scheme %q (want auto, euler-maruyama, milstein or heun)", s)
}

// Problem is a particle ensemble to simulate: the process (coefficients and
// convention), the grid whose boundaries and cells it lives on, the initial
// law and the snapshot times.
type Problem struct {
	// Grid gives the domain, the boundary kind of each side and the cells
	// of the histograms. Required.
	Grid *grid.Grid
	// Coefficients of the process. Required.
	Coefficients Coefficients
	// Convention is the reading of the noise (zero value: Itô). The
	// particles follow the Itô SDE with drift mu + alpha div D, as the PDE
	// of operators does for the same convention; give the particles another
	// convention than the PDE to test a mismatched pairing.
	Convention operators.Convention

	// Initial is the initial density as cell values on Grid (length
	// Grid.Len(), non-negative, any positive mass): each particle picks a
	// cell with probability p_i V_i / sum p V and a uniform position in it.
	// Exactly one of Initial and Positions must be set.
	Initial []float64
	// Positions are initial positions, Positions[k][i] coordinate k of
	// particle i (Dim rows of equal length, inside the domain). Their
	// number overrides Settings.Particles.
	Positions [][]float64

	// T0 is the initial time.
	T0 float64
	// Times are the snapshot times, increasing and not before T0 (T0
	// itself records the initial ensemble).
	Times []float64
}

// Settings configures Simulate. A nil *Settings means the zero value, whose
// every field documents its default.
type Settings struct {
	// Particles is the ensemble size (zero value: 100000). Ignored when
	// Problem.Positions is set.
	Particles int
	// Dt is the time step (zero value: 1/1000 of the span). The last step
	// before each snapshot is shortened to land on it exactly.
	Dt float64
	// Scheme (zero value: Auto, the scheme matching the convention).
	Scheme Scheme
	// Seed selects the random streams; results are a function of Seed and
	// ChunkSize only, whatever Threads.
	Seed uint64
	// Threads is the number of goroutines (zero value: GOMAXPROCS).
	Threads int
	// ChunkSize is the number of particles that share one random stream
	// and one batch of coefficient evaluations (zero value: 4096).
	// Changing it changes the realisation.
	ChunkSize int
	// Observables are functions of a particle's position averaged over the
	// surviving particles at each snapshot (Snapshot.Observables), with
	// their standard errors. They are called once per particle and snapshot,
	// possibly concurrently, with x of length Dim that they must not keep.
	Observables []func(x []float64) float64
	// DivergenceStep is the relative step of the central differences of
	// DiffusionBatch that give div D when the coefficients do not provide
	// it: h_k = DivergenceStep × (grid length along k) (zero value: 1e-5;
	// the error is O(h²) in D''' plus O(ε D/h) round-off, ~1e-10 relative).
	// D must be defined within h of the domain.
	DivergenceStep float64
	// NoBridge disables the Brownian-bridge test on absorbing sides, so that
	// particles are absorbed only where a step ends outside (weak order ½
	// for the survival; the default keeps order 1).
	NoBridge bool

	noFuse bool // tests: take the general path
}

// Estimate is a Monte Carlo mean with its standard error.
type Estimate struct {
	Value, StdErr float64
}

// Snapshot is the ensemble at one time.
type Snapshot struct {
	// T is the time.
	T float64
	// Particles is the number launched, N.
	Particles int64
	// Alive is the number still in the domain.
	Alive int64
	// Counts[i] is the number of particles in cell i of the grid.
	Counts []int64
	// Mean and Cov (d×d, row-major) are the sample mean and covariance of
	// the surviving particles (normalised by Alive − 1); NaN if fewer than
	// two survive.
	Mean, Cov []float64
	// Observables are the averages of Settings.Observables over the
	// surviving particles.
	Observables []Estimate
}

// Survival returns the fraction of the particles still in the domain,
// Alive/Particles.
func (s *Snapshot) Survival() float64 { return float64(s.Alive) / float64(s.Particles) }

// Density writes the histogram density counts_i/(N V_i) into dst (length
// g.Len(), allocated if nil) and returns it. Its mass is the survival.
func (s *Snapshot) Density(dst []float64, g *grid.Grid) []float64 {
	if len(s.Counts) != g.Len() {
		panic("validation: snapshot and grid disagree")
	}
	if dst == nil {
		dst = make([]float64, g.Len())
	}
	if len(dst) != g.Len() {
		panic("validation: wrong density length")
	}
	for i, c := range s.Counts {
		dst[i] = float64(c) / (float64(s.Particles) * g.Volume(i))
	}
	return dst
}

// Result is the outcome of Simulate.
type Result struct {
	// Snapshots, one per Problem.Times.
	Snapshots []Snapshot
	// Scheme actually used (Auto resolved).
	Scheme Scheme
	// Particles is the ensemble size N.
	Particles int
	// Steps is the number of time steps of every path.
	Steps int
	// ParticleSteps is the number of particle updates performed (absorbed
	// particles stop counting).
	ParticleSteps int64
	// Threads is the number of goroutines used.
	Threads int
	// Duration is the wall time.
	Duration time.Duration
}

// Simulate runs the particle ensemble of p and records its histograms on
// p.Grid at p.Times. The result depends on s.Seed and s.ChunkSize only, not
// on the number of threads. It returns an error for an invalid problem and
// when a particle's position becomes NaN or infinite.
func Simulate(p Problem, s *Settings) (*Result, error) {
	start := time.Now()
	pl, err := newPlan(p, s)
	if err != nil {
		return nil, err
	}
	threads := pl.set.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, pl.nChunks)
	threads = max(threads, 1)

	chunkErr := make([]error, pl.nChunks)
	workers := make([]*worker, threads)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		workers[w] = newWorker(pl)
		wg.Add(1)
		go func(wk *worker) {
			defer wg.Done()
			for !failed.Load() {
				c := int(next.Add(1) - 1)
				if c >= pl.nChunks {
					return
				}
				if err := wk.runChunk(c); err != nil {
					chunkErr[c] = err
					failed.Store(true)
				}
			}
		}(workers[w])
	}
	wg.Wait()
	// Chunks are pulled in increasing order and run to completion, so the
	// first failing chunk is the same whatever the number of threads.
	for _, err := range chunkErr {
		if err != nil {
			return nil, err
		}
	}
	res := pl.gather(workers)
	res.Threads = threads
	res.Duration = time.Since(start)
	return res, nil
}

// plan is everything the workers share, fixed before they start.
type plan struct {
	g     *grid.Grid
	c     Coefficients
	props Properties
	set   Settings
	d     int

	scheme Scheme
	// aeff is the coefficient of div D added to the drift of the scheme:
	// alpha for Euler–Maruyama and Milstein, alpha − ½ for Heun.
	aeff      float64
	needDiv   bool // div D is computed at every step
	divExact  Divergencer
	divStep   []float64
	constF    []float64 // factor of 2D if D is constant (d×d)
	constDiag bool      // constant and diagonal D
	constD    []float64 // the constant D

	affB, affA []float64
	affDiag    bool // affine drift with diagonal A
	fused      bool // Euler–Maruyama with constant diagonal D: fusedConstDiag

	// Boundaries.
	lo, hi     []float64
	lowerK     []grid.Boundary
	upperK     []grid.Boundary
	absorbing  bool
	bridge     bool
	uniformAx  []bool
	invWidth   []float64
	edges      [][]float64
	shape      []int
	strides    []int
	centre     []float64 // reference point of the moment sums
	nObs       int
	statStride int // floats per chunk and snapshot

	// Initial law.
	cum       []float64 // cumulative cell masses (Initial)
	positions [][]float64

	times   []float64
	t0, dt  float64
	steps   int
	n       int // particles
	chunk   int
	nChunks int

	// Per chunk and snapshot: [alive, sum x (d), sum xxᵀ (d*d), sum f,
	// sum f² (nObs each)], summed in chunk order at the end.
	stats []float64
}

func newPlan(p Problem, s *Settings) (*plan, error) {
	pl := &plan{}
	if s != nil {
		pl.set = *s
	}
	set := &pl.set
	if p.Grid == nil {
		return nil, errors.New("validation: problem has no grid")
	}
	if p.Coefficients == nil {
		return nil, errors.New("validation: problem has no coefficients")
	}
	g := p.Grid
	d := g.Dim()
	if p.Coefficients.Dim() != d {
		return nil, fmt.Errorf("validation: coefficients have dimension %d, grid %d", p.Coefficients.Dim(), d)
	}
	pl.g, pl.c, pl.d = g, p.Coefficients, d
	pl.props = PropertiesOf(p.Coefficients)
	if p.Convention < operators.Ito || p.Convention > operators.AntiIto {
		return nil, fmt.Errorf("validation: invalid convention %d", int(p.Convention))
	}
	alpha := p.Convention.Alpha()

	// Times.
	if len(p.Times) == 0 {
		return nil, errors.New("validation: no snapshot times")
	}
	if math.IsNaN(p.T0) || math.IsInf(p.T0, 0) {
		return nil, fmt.Errorf("validation: initial time %v", p.T0)
	}
	for i, t := range p.Times {
		if math.IsNaN(t) || math.IsInf(t, 0) || t < p.T0 || (i > 0 && t <= p.Times[i-1]) {
			return nil, fmt.Errorf("validation: snapshot times must be finite, increasing and not before T0 = %g (times[%d] = %g)", p.T0, i, t)
		}
	}
	pl.times = append([]float64(nil), p.Times...)
	pl.t0 = p.T0
	span := pl.times[len(pl.times)-1] - p.T0
	pl.dt = set.Dt
	if pl.dt < 0 || math.IsNaN(pl.dt) || math.IsInf(pl.dt, 0) {
		return nil, fmt.Errorf("validation: time step must be positive and finite, got %v", pl.dt)
	}
	if pl.dt == 0 {
		pl.dt = span / 1000
		if pl.dt == 0 {
			pl.dt = 1
		}
	}
	pl.steps = pl.countSteps()

	// Scheme and the noise-induced drift.
	diag, constD := pl.props.Diagonal, pl.props.ConstantDiffusion
	simple := diag || constD != nil
	pl.scheme = set.Scheme
	switch pl.scheme {
	case Auto:
		pl.scheme = EulerMaruyama
		if p.Convention == operators.Stratonovich && simple {
			pl.scheme = Heun
		}
	case EulerMaruyama:
	case Milstein, Heun:
		if !simple {
			return nil, fmt.Errorf("validation: the %v scheme needs a diagonal or constant diffusion (a full, varying D has no factor-independent %v step; use euler-maruyama, which follows fokker's convention mu + alpha div D for any D)", pl.scheme, pl.scheme)
		}
	default:
		return nil, fmt.Errorf("validation: invalid scheme %d", int(pl.scheme))
	}
	pl.aeff = alpha
	if pl.scheme == Heun {
		pl.aeff = alpha - 0.5
	}
	if constD != nil {
		pl.constD = constD
		pl.constF = make([]float64, d*d)
		a := make([]float64, d*d)
		for i, v := range constD {
			a[i] = 2 * v
		}
		for k := 0; k < d; k++ {
			for l := 0; l < k; l++ {
				a[k*d+l] = 0.5 * (a[k*d+l] + a[l*d+k])
			}
		}
		if diag {
			for k := 0; k < d; k++ {
				pl.constF[k*d+k] = math.Sqrt(math.Max(a[k*d+k], 0))
			}
		} else {
			FactorPSD(pl.constF, a, make([]float64, d*d), d)
		}
		pl.constDiag = diag
	}
	pl.needDiv = constD == nil && (pl.aeff != 0 || pl.scheme == Milstein)
	if dv, ok := p.Coefficients.(Divergencer); ok {
		pl.divExact = dv
	}
	rel := set.DivergenceStep
	if rel <= 0 {
		rel = 1e-5
	}
	pl.divStep = make([]float64, d)
	for k := range pl.divStep {
		pl.divStep[k] = rel * g.Length(k)
	}
	pl.affB, pl.affA = pl.props.AffineB, pl.props.AffineA
	if pl.affA != nil {
		pl.affDiag = true
		for k := 0; k < d; k++ {
			for l := 0; l < d; l++ {
				if k != l && pl.affA[k*d+l] != 0 {
					pl.affDiag = false
				}
			}
		}
	}
	pl.fused = pl.constDiag && pl.scheme != Heun && !set.noFuse

	// Geometry.
	pl.shape = g.Shape()
	pl.strides = g.Strides()
	pl.centre = make([]float64, d)
	for k := 0; k < d; k++ {
		lo, up := g.Bounds(k)
		pl.lo = append(pl.lo, g.Lower(k))
		pl.hi = append(pl.hi, g.Upper(k))
		pl.lowerK = append(pl.lowerK, lo)
		pl.upperK = append(pl.upperK, up)
		if lo == grid.Absorbing || up == grid.Absorbing {
			pl.absorbing = true
		}
		e := g.Edges(k)
		pl.edges = append(pl.edges, e)
		uni := true
		w0 := e[1] - e[0]
		for i := 1; i+1 < len(e); i++ {
			if math.Abs(e[i+1]-e[i]-w0) > 1e-12*w0 {
				uni = false
			}
		}
		pl.uniformAx = append(pl.uniformAx, uni)
		pl.invWidth = append(pl.invWidth, float64(len(e)-1)/g.Length(k))
		pl.centre[k] = 0.5 * (g.Lower(k) + g.Upper(k))
	}
	pl.bridge = pl.absorbing && !set.NoBridge

	// Initial law.
	switch {
	case p.Initial != nil && p.Positions != nil:
		return nil, errors.New("validation: set either Initial or Positions, not both")
	case p.Initial != nil:
		if len(p.Initial) != g.Len() {
			return nil, fmt.Errorf("validation: initial density has length %d, grid %d", len(p.Initial), g.Len())
		}
		pl.cum = make([]float64, g.Len())
		acc := 0.0
		for i, v := range p.Initial {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("validation: initial density is %v at cell %d", v, i)
			}
			acc += v * g.Volume(i)
			pl.cum[i] = acc
		}
		if !(acc > 0) {
			return nil, errors.New("validation: initial density has zero mass")
		}
		pl.n = set.Particles
		if pl.n == 0 {
			pl.n = 100000
		}
		if pl.n < 0 {
			return nil, fmt.Errorf("validation: particle count %d", pl.n)
		}
	case p.Positions != nil:
		if len(p.Positions) != d {
			return nil, fmt.Errorf("validation: positions have %d rows, want %d", len(p.Positions), d)
		}
		pl.n = len(p.Positions[0])
		for k, row := range p.Positions {
			if len(row) != pl.n {
				return nil, fmt.Errorf("validation: position row %d has length %d, row 0 %d", k, len(row), pl.n)
			}
			for i, v := range row {
				if !(v >= pl.lo[k] && v <= pl.hi[k]) {
					return nil, fmt.Errorf("validation: particle %d starts outside the domain (coordinate %d = %g not in [%g, %g])", i, k, v, pl.lo[k], pl.hi[k])
				}
			}
		}
		pl.positions = p.Positions
	default:
		return nil, errors.New("validation: no initial law (set Initial or Positions)")
	}
	if pl.n == 0 {
		return nil, errors.New("validation: no particles")
	}
	pl.chunk = set.ChunkSize
	if pl.chunk <= 0 {
		pl.chunk = 4096
	}
	pl.nChunks = (pl.n + pl.chunk - 1) / pl.chunk
	pl.nObs = len(set.Observables)
	pl.statStride = 1 + d + d*d + 2*pl.nObs
	pl.stats = make([]float64, pl.nChunks*len(pl.times)*pl.statStride)
	return pl, nil
}

// countSteps returns the number of steps of the time loop (the same for
// every chunk; see runChunk).
func (pl *plan) countSteps() int {
	t, n := pl.t0, 0
	for _, target := range pl.times {
		for t < target {
			h, land := pl.stepTo(t, target)
			if land {
				t = target
			} else {
				t += h
			}
			n++
		}
	}
	return n
}

// stepTo returns the step from t towards target and whether it lands on it.
func (pl *plan) stepTo(t, target float64) (h float64, land bool) {
	if t+pl.dt >= target-1e-9*pl.dt {
		return target - t, true
	}
	return pl.dt, false
}

// gather sums the workers' histograms and the chunks' moment sums (in
// chunk order, so that the floating-point sums do not depend on the
// scheduling).
func (pl *plan) gather(workers []*worker) *Result {
	d, K := pl.d, pl.g.Len()
	res := &Result{Scheme: pl.scheme, Particles: pl.n, Steps: pl.steps}
	for _, w := range workers {
		res.ParticleSteps += w.particleSteps
	}
	for s, t := range pl.times {
		snap := Snapshot{T: t, Particles: int64(pl.n), Counts: make([]int64, K)}
		for _, w := range workers {
			for i, c := range w.counts[s] {
				snap.Counts[i] += c
			}
		}
		tot := make([]float64, pl.statStride)
		for c := 0; c < pl.nChunks; c++ {
			st := pl.stats[(c*len(pl.times)+s)*pl.statStride:][:pl.statStride]
			for j, v := range st {
				tot[j] += v
			}
		}
		n := tot[0]
		snap.Alive = int64(n)
		snap.Mean = make([]float64, d)
		snap.Cov = make([]float64, d*d)
		sx, sxx := tot[1:1+d], tot[1+d:1+d+d*d]
		for k := 0; k < d; k++ {
			m := sx[k] / n
			snap.Mean[k] = pl.centre[k] + m
		}
		for k := 0; k < d; k++ {
			for l := 0; l < d; l++ {
				c := (sxx[k*d+l] - sx[k]*sx[l]/n) / (n - 1)
				if n < 2 {
					c = math.NaN()
				}
				snap.Cov[k*d+l] = c
			}
		}
		if n < 1 {
			for k := range snap.Mean {
				snap.Mean[k] = math.NaN()
			}
		}
		so := tot[1+d+d*d:]
		for j := 0; j < pl.nObs; j++ {
			m := so[2*j] / n
			v := (so[2*j+1] - so[2*j]*m) / (n - 1)
			snap.Observables = append(snap.Observables, Estimate{Value: m, StdErr: math.Sqrt(math.Max(v, 0) / n)})
		}
		res.Snapshots = append(res.Snapshots, snap)
	}
	return res
}
