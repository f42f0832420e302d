package solvers

import (
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/fokkerplanck/fokker/operators"
)

// detailedBalance tries to find the stationary density of op directly: if the
// discrete process is reversible — every exchange between two cells balances
// on its own at stationarity, as for any 1D problem with reflecting sides and
// for gradient systems — the stationary masses satisfy
// m_Q / m_P = W_PQ / W_QP (Kolmogorov's criterion), with W_PQ the rate from P
// to Q; in densities, p_Q / p_P = a_PQ / b_PQ with the flux F = a p_P − b p_Q.
// The ratios are propagated from one cell over a spanning tree of the
// connections, then every row of L p is checked to balance. It writes the
// normalised density into dst and returns its balance defect (see
// StationaryResult.Residual) and its smallest entry relative to the
// largest; ok is false, leaving dst unspecified, when the process is not
// reversible (or not irreducible), and the caller then solves L p = 0
// iteratively. Cost: O(nnz), a few matrix-vector products.
//
// Operators whose connections are all along the axes are read through their
// flux coefficients (axisBalance), without the CSR matrix; others through
// the matrix (csrBalance).
func detailedBalance(dst []float64, op *operators.Operator) (defect, minDensity float64, ok bool) {
	if op.Stats().CrossDirections == 0 && !op.Grid().HasAbsorbing() {
		var b axisBalancer
		switch b.solve(dst, op) {
		case balanced:
			return b.defect, b.minDensity, true
		case irreversible:
			return 0, 0, false
		}
		// A tree connection carries nothing: search the matrix for another.
	}
	return csrBalance(dst, op)
}

// csrBalance is detailedBalance on the CSR matrix of op: the ratios are
// propagated breadth-first from cell 0 in log space (no overflow, no
// cancellation).
func csrBalance(dst []float64, op *operators.Operator) (defect, minDensity float64, ok bool) {
	raw := op.Matrix().RawMatrix()
	ip, ind, data := raw.Indptr, raw.Ind, raw.Data
	vol := op.Volumes()
	n := raw.I
	// The entry L[Q][P] is found in row Q; rows are short and the pattern
	// is symmetric.
	entry := func(i, j int) float64 {
		for k := ip[i]; k < ip[i+1]; k++ {
			if ind[k] == j {
				return data[k]
			}
		}
		return 0
	}
	logp := make([]float64, n)
	const unset = math.MaxFloat64
	for i := range logp {
		logp[i] = unset
	}
	queue := make([]int32, 0, n)
	logp[0] = 0
	queue = append(queue, 0)
	for h := 0; h < len(queue); h++ {
		p := int(queue[h])
		for k := ip[p]; k < ip[p+1]; k++ {
			q := ind[k]
			if q == p || logp[q] != unset {
				continue
			}
			wqp := data[k] * vol[p]     // L[P][Q] V_P: Q -> P
			wpq := entry(q, p) * vol[q] // L[Q][P] V_Q: P -> Q
			if !(wpq > 0) || !(wqp > 0) {
				if wpq == 0 && wqp == 0 {
					continue
				}
				return 0, 0, false // a one-way connection: not reversible
			}
			logp[q] = logp[p] + math.Log(wpq) - math.Log(wqp)
			queue = append(queue, int32(q))
		}
	}
	if len(queue) != n {
		return 0, 0, false // not irreducible over two-way connections
	}
	// Scale by the largest density.
	mx := math.Inf(-1)
	for _, v := range logp {
		mx = math.Max(mx, v)
	}
	for i := range dst {
		dst[i] = math.Exp(logp[i] - mx)
	}
	// Check every row balances: |(L p)_i| small against its terms.
	for i := 0; i < n; i++ {
		s, a := 0.0, 0.0
		small := false
		for k := ip[i]; k < ip[i+1]; k++ {
			v := data[k] * dst[ind[k]]
			s += v
			a += math.Abs(v)
			small = small || dst[ind[k]] < densityFloor
		}
		if !small && a > 0 && math.Abs(s) > balanceTol*a {
			return 0, 0, false
		}
	}
	mass := op.Grid().Mass(dst)
	mn := math.Inf(1)
	mx = 0
	for i := range dst {
		dst[i] /= mass
		mn, mx = math.Min(mn, dst[i]), math.Max(mx, dst[i])
	}
	return balanceDefect(op, dst, logp), mn / mx, true
}

// balanceTol bounds the imbalance of a row of L p relative to the sum of the
// magnitudes of its terms: round-off of a few terms, each accurate to a few
// ulps, plus the propagation's error, which grows with the path length.
const balanceTol = 1e-11

// densityFloor is the density, relative to the largest, below which a row
// of L p is not checked: near the subnormal range the densities lose their
// relative precision, and such a row's imbalance is round-off of zero.
const densityFloor = 1e-290

// Outcomes of axisBalancer.solve.
const (
	balanced     = iota
	irreversible // a one-way connection, or rows that do not balance
	disconnected // a connection of the spanning tree carries nothing
)

// axisBalancer computes the detailed-balance density of an operator whose
// connections all run along the axes, from its flux coefficients.
//
// The spanning tree is a comb: the lines along the last axis, each joined at
// its first cell to the first cell of the line one step back along the last
// of the other axes whose index there is not zero. The cells are split into ranges, one
// per worker, and every range into chunks — the parts of lines in the range,
// cut further wherever the density leaves [1e-200, 1e200] relative to the
// chunk's first cell. Within a chunk the density is a running product of
// ratios (pass 1, in parallel); the chunks are then joined by one ratio each,
// with scales kept as mantissa and exponent so that no range of densities
// overflows (pass 2); every chunk is scaled to the normalised density
// (pass 3, in parallel) and every row of L p is checked (pass 4, in
// parallel).
type axisBalancer struct {
	d, n     int
	shape    []int
	strides  []int
	periodic []bool
	a, b     [][]float64
	vol, p   []float64

	ranges []int         // worker w has cells ranges[w]..ranges[w+1]-1
	chunks [][]axisChunk // per worker, in order of the cells
	status []int         // per worker: pass 1 outcome
	sums   []balanceSums // per worker: pass 4 results

	floor              float64 // densityFloor times the largest density
	defect, minDensity float64
}

// axisChunk is a run of cells along the last axis whose densities are
// relative to that of the first cell, start.
type axisChunk struct {
	start    int
	sum, max float64 // of p·V and of p, relative to p_start
	// The density of the first cell relative to that of cell 0 is
	// frac·2^exp. The chunk is normalised by two factors, 1/max and then
	// f, its largest density normalised: neither underflows unless the
	// densities they scale are negligible.
	frac float64
	exp  int
	f    float64
}

// balanceSums are one worker's results of the row check.
type balanceSums struct {
	num, den float64 // sums of |(L p)_i| V_i and |L_ii p_i| V_i
	min, max float64 // of p
	ok       bool
}

// Bounds of a chunk's running product before it is cut.
const (
	chunkTiny = 1e-200
	chunkHuge = 1e200
)

// solve writes the normalised detailed-balance density of op into dst and
// returns the outcome; the defect and the smallest relative density are
// left in bl.
func (bl *axisBalancer) solve(dst []float64, op *operators.Operator) int {
	g := op.Grid()
	d := g.Dim()
	*bl = axisBalancer{d: d, n: g.Len(), shape: g.Shape(), strides: g.Strides(), vol: op.Volumes(), p: dst}
	for k := 0; k < d; k++ {
		bl.periodic = append(bl.periodic, g.Periodic(k))
		a, b := op.AxisFluxes(k)
		bl.a = append(bl.a, a)
		bl.b = append(bl.b, b)
	}
	nw := runtime.GOMAXPROCS(0)
	if bl.n < parallelRows {
		nw = 1
	}
	bl.ranges = make([]int, nw+1)
	for w := range bl.ranges {
		bl.ranges[w] = w * bl.n / nw
	}
	bl.chunks = make([][]axisChunk, nw)
	bl.status = make([]int, nw)
	bl.sums = make([]balanceSums, nw)

	bl.parallel(bl.propagate)
	for _, s := range bl.status {
		if s != balanced {
			return s
		}
	}
	if s := bl.join(); s != balanced {
		return s
	}
	bl.parallel(bl.scale)
	bl.parallel(bl.check)
	num, den := 0.0, 0.0
	mn, mx := math.Inf(1), 0.0
	for _, s := range bl.sums {
		if !s.ok {
			return irreversible
		}
		num += s.num
		den += s.den
		mn, mx = math.Min(mn, s.min), math.Max(mx, s.max)
	}
	if den > 0 {
		bl.defect = num / den
	}
	bl.minDensity = mn / mx
	return balanced
}

// parallel runs fn for every worker.
func (bl *axisBalancer) parallel(fn func(w int)) {
	nw := len(bl.chunks)
	if nw == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(nw)
	for w := 0; w < nw; w++ {
		go func() {
			defer wg.Done()
			fn(w)
		}()
	}
	wg.Wait()
}

// link says whether the connection from cell l along axis k can carry the
// ratio of the stationary densities at its ends, a/b: balanced if it is
// two-way.
func (bl *axisBalancer) link(k, l int) int {
	a, b := bl.a[k][l], bl.b[k][l]
	switch {
	case a > 0 && b > 0:
		return balanced
	case a == 0 && b == 0:
		return disconnected
	}
	return irreversible // one-way (or a negative coefficient)
}

// propagate is pass 1 over worker w's cells: the running products within
// the chunks.
func (bl *axisBalancer) propagate(w int) {
	lo, hi := bl.ranges[w], bl.ranges[w+1]
	last := bl.d - 1
	nl := bl.shape[last]
	a, b := bl.a[last], bl.b[last]
	p, vol := bl.p, bl.vol
	chunks := bl.chunks[w][:0]
	for l := lo; l < hi; {
		end := min(hi, (l/nl+1)*nl) // the end of the line, or of the range
		c := axisChunk{start: l}
		v, sum, mx := 1.0, vol[l], 1.0
		p[l] = 1
		for j := l + 1; j < end; j++ {
			aj, bj := a[j-1], b[j-1]
			if !(aj > 0 && bj > 0) {
				bl.status[w] = bl.link(last, j-1)
				return
			}
			v *= aj / bj
			if !(v >= chunkTiny && v <= chunkHuge) {
				c.sum, c.max = sum, mx
				chunks = append(chunks, c)
				c = axisChunk{start: j}
				v, sum, mx = 1, 0, 1
			}
			p[j] = v
			sum += v * vol[j]
			if v > mx {
				mx = v
			}
		}
		c.sum, c.max = sum, mx
		chunks = append(chunks, c)
		l = end
	}
	bl.chunks[w] = chunks
	bl.status[w] = balanced
}

// join is pass 2: the scale of every chunk relative to cell 0, through the
// connection from its parent cell, and the factors that normalise them.
func (bl *axisBalancer) join() int {
	var all []axisChunk
	for _, c := range bl.chunks {
		all = append(all, c...)
	}
	last := bl.d - 1
	nl := bl.shape[last]
	// The largest density, as frac·2^exp with frac in [0.5, 1).
	mfrac, mexp := 0.0, math.MinInt
	for i := range all {
		c := &all[i]
		if c.start == 0 {
			c.frac, c.exp = 0.5, 1
		} else {
			k, parent := last, c.start-1
			if c.start%nl == 0 {
				// First cell of a line: joined along the last axis before
				// the last whose index is not zero.
				r := c.start
				for j := last - 1; j >= 0; j-- {
					if (r/bl.strides[j])%bl.shape[j] != 0 {
						k = j
						break
					}
				}
				parent = c.start - bl.strides[k]
			}
			if s := bl.link(k, parent); s != balanced {
				return s
			}
			// The chunk holding the parent precedes this one. The ratio a/b
			// may overflow: mantissas and exponents apart.
			j := sort.Search(i, func(j int) bool { return all[j].start > parent }) - 1
			pc := &all[j]
			fp, ep := math.Frexp(bl.p[parent])
			fa, ea := math.Frexp(bl.a[k][parent])
			fb, eb := math.Frexp(bl.b[k][parent])
			c.frac, c.exp = math.Frexp(pc.frac * fp * fa / fb)
			c.exp += pc.exp + ep + ea - eb
		}
		f, e := math.Frexp(c.frac * c.max)
		e += c.exp
		if e > mexp || e == mexp && f > mfrac {
			mfrac, mexp = f, e
		}
	}
	// The largest density of each chunk relative to the largest of all
	// (≤ 1, tiny ones underflowing to zero), then the mass.
	mass := 0.0
	for i := range all {
		c := &all[i]
		f, e := math.Frexp(c.frac * c.max)
		c.f = math.Ldexp(f/mfrac, e+c.exp-mexp)
		mass += c.f * (c.sum / c.max)
	}
	if !(mass > 0) || math.IsInf(mass, 0) {
		return irreversible
	}
	for i := range all {
		all[i].f /= mass
	}
	// The largest density is now 1/mass.
	bl.floor = densityFloor / mass
	// Back to the workers, in order.
	for w, c := range bl.chunks {
		bl.chunks[w] = all[:len(c)]
		all = all[len(c):]
	}
	return balanced
}

// scale is pass 3 over worker w's cells: the normalised density.
func (bl *axisBalancer) scale(w int) {
	p := bl.p
	cs := bl.chunks[w]
	for i, c := range cs {
		end := bl.ranges[w+1]
		if i+1 < len(cs) {
			end = cs[i+1].start
		}
		f0, f := 1/c.max, c.f
		for j := c.start; j < end; j++ {
			p[j] = p[j] * f0 * f
		}
	}
}

// check is pass 4 over worker w's cells: every row of L p must balance,
// and the sums of the balance defect. It runs along the lines of the last
// axis, whose cells are adjacent.
func (bl *axisBalancer) check(w int) {
	lo, hi := bl.ranges[w], bl.ranges[w+1]
	d, last := bl.d, bl.d-1
	p := bl.p
	s := balanceSums{min: math.Inf(1), ok: true}
	var idxBuf [8]int
	idx := idxBuf[:0]
	if d <= len(idxBuf) {
		idx = idxBuf[:d]
	} else {
		idx = make([]int, d)
	}
	r := lo
	for k := 0; k < d; k++ {
		idx[k] = r / bl.strides[k]
		r -= idx[k] * bl.strides[k]
	}
	nl := bl.shape[last]
	for l := lo; l < hi; {
		start := l - idx[last] // the first cell of the line
		end := min(hi, start+nl)
		for ; l < end; l++ {
			// The terms of row l of L p, times V_l: the diagonal, −(flux
			// coefficients out of l) p_l, and the inflows from the
			// neighbours.
			pl := p[l]
			diag, sum, abs := 0.0, 0.0, 0.0
			lowest := pl
			idx[last] = l - start
			for k := 0; k < d; k++ {
				a, b := bl.a[k], bl.b[k]
				up, down := bl.neighbours(k, idx[k], l)
				if up >= 0 {
					diag -= a[l]
					t := b[l] * p[up]
					sum += t
					abs += math.Abs(t)
					lowest = min(lowest, p[up])
				}
				if down >= 0 {
					diag -= b[down]
					t := a[down] * p[down]
					sum += t
					abs += math.Abs(t)
					lowest = min(lowest, p[down])
				}
			}
			t := diag * pl
			sum += t
			abs += math.Abs(t)
			if abs > 0 && math.Abs(sum) > balanceTol*abs && lowest >= bl.floor {
				s.ok = false
				bl.sums[w] = s
				return
			}
			s.num += math.Abs(sum)
			s.den += math.Abs(t)
			s.min = min(s.min, pl)
			s.max = max(s.max, pl)
		}
		// The next line.
		idx[last] = 0
		for k := last - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < bl.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	bl.sums[w] = s
}

// neighbours returns the cells across the upper and lower faces along axis
// k of cell l, whose index along k is i (−1: none).
func (bl *axisBalancer) neighbours(k, i, l int) (up, down int) {
	nk, st := bl.shape[k], bl.strides[k]
	up, down = -1, -1
	wrap := bl.periodic[k] && nk > 1
	switch {
	case i+1 < nk:
		up = l + st
	case wrap:
		up = l - i*st
	}
	switch {
	case i > 0:
		down = l - st
	case wrap:
		down = l + (nk-1)*st
	}
	return up, down
}
