package solvers

import (
	"math"

	"github.com/fokkerplanck/fokker/operators"
)

// detailedBalance tries to find the stationary density of op directly: if the
// discrete process is reversible — every exchange between two cells balances
// on its own at stationarity, as for any 1D problem with reflecting sides and
// for gradient systems — the stationary masses satisfy
// m_Q / m_P = W_PQ / W_QP (Kolmogorov's criterion), with W_PQ the rate from P
// to Q; in densities, p_Q / p_P = a_PQ / b_PQ with the flux F = a p_P − b p_Q,
// a = L[Q][P] V_Q and b = L[P][Q] V_P. They are propagated from one cell over
// a spanning tree of the
// connections in log space (no overflow, no cancellation), then every
// connection is checked. It writes the normalised density into dst and
// returns false, leaving dst unspecified, when the process is not reversible
// (or not irreducible); the caller then solves L p = 0 iteratively. Cost:
// O(nnz), a few matrix-vector products.
func detailedBalance(dst []float64, op *operators.Operator, work []float64) bool {
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
	logp := work
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
				return false // a one-way connection: not reversible
			}
			logp[q] = logp[p] + math.Log(wpq) - math.Log(wqp)
			queue = append(queue, int32(q))
		}
	}
	if len(queue) != n {
		return false // not irreducible over two-way connections
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
		for k := ip[i]; k < ip[i+1]; k++ {
			v := data[k] * dst[ind[k]]
			s += v
			a += math.Abs(v)
		}
		// Round-off: a few terms, each accurate to a few ulps, plus the
		// log-space propagation's error, which grows with the path length.
		if a > 0 && math.Abs(s) > 1e-11*a {
			return false
		}
	}
	return true
}
