// Command productsde computes grid-free references for the product-model
// examples of `fokker sgd` (loss (a b x − y)²/2): large ensembles of
//
//   - the first-order SDE itself, by Euler–Maruyama at step eta/sub
//     (converged in the step; the law fokker's density p approximates),
//   - Euler–Maruyama at step eta, i.e. SGD with Gaussian gradient noise of
//     the same mean and covariance (the law the modified equation of p~
//     approximates),
//   - real minibatch SGD on the spec's data (batches with replacement),
//
// histogrammed on the spec's grid coarsened by [sgd.check] coarsen, and
// compared with each other (and, with -fp, with the density of a `fokker
// sgd` run of the same spec) in units of the L1 noise floor of a check with
// [sgd.check] chains chains. It separates the three errors the check of
// `fokker sgd` sees together: the grid's (fokker's density against the SDE
// ensemble), the diffusion approximation's (the SDE against SGD), and the
// part of that due to the non-Gaussian batch noise (Gaussian SGD against
// SGD). docs/sgd.md reports its figures.
//
// For this loss every per-sample gradient is ξ (b, a) with ξ = (a b x − y) x,
// so the SDE's coefficients are polynomials in c = a b with the data's
// moments as coefficients: mu = −E ξ (b, a), D = (eta/2n) Var ξ (b, a)(b, a)ᵀ,
// and the SDE has one scalar Brownian motion along (b, a). With
// freeze_diffusion_at, Var ξ and the direction are taken at that point (for
// SGD too: the full gradient plus the batch noise drawn there, as the check
// of `fokker sgd` does).
//
// Usage:
//
//	go run ./examples/reference/productsde -spec SPEC.toml [-fp RUN.h5] [-n 200000] [-sub 10]
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/sgd"
	"github.com/fokkerplanck/fokker/spec"
	"github.com/fokkerplanck/fokker/validation"
)

func main() {
	specPath := flag.String("spec", "", "the `fokker sgd` spec (product-model loss)")
	fpPath := flag.String("fp", "", "optional HDF5 file of `fokker sgd` on the same spec")
	n := flag.Int("n", 200000, "particles per ensemble")
	sub := flag.Int("sub", 10, "Euler–Maruyama substeps per SGD step for the SDE ensemble")
	seed := flag.Uint64("seed", 1, "seed of the ensembles")
	flag.Parse()
	if err := run(*specPath, *fpPath, *n, *sub, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "productsde:", err)
		os.Exit(1)
	}
}

// moments are the data moments the product model's coefficients need.
type moments struct {
	sxx, sxy         float64 // E x², E xy
	vxx, cxx, vxy    float64 // Var x², Cov(x², xy), Var xy
	x, y             []float64
	eta              float64
	batch            int
	frozen           bool
	fc, fvar, fa, fb float64 // frozen: c, Var ξ, and (a, b) there
	fmean            float64 // frozen: E ξ there
}

func (m *moments) mean(c float64) float64 { return c*m.sxx - m.sxy }
func (m *moments) variance(c float64) float64 {
	return c*c*m.vxx - 2*c*m.cxx + m.vxy
}

type ensemble int

const (
	sde ensemble = iota
	gauss
	chains
	nEnsembles
)

var ensembleNames = [...]string{"SDE", "Gaussian SGD", "SGD"}

// step advances (a, b) by one step of kind e of length h (SGD and Gaussian
// SGD: h = eta).
func (m *moments) step(e ensemble, a, b, h float64, r *rand.Rand) (float64, float64) {
	c := a * b
	va, vb := b, a // direction of the noise
	mean := m.mean(c)
	var noise float64 // the noise part of the step along (va, vb)
	switch e {
	case sde, gauss:
		v := m.variance(c)
		if m.frozen {
			v, va, vb = m.fvar, m.fb, m.fa
		}
		noise = math.Sqrt(max(m.eta*v/float64(m.batch)*h, 0)) * r.NormFloat64()
	case chains:
		cc, mu := c, mean
		if m.frozen {
			cc, mu, va, vb = m.fc, m.fmean, m.fb, m.fa
		}
		s := 0.0
		for k := 0; k < m.batch; k++ {
			i := r.IntN(len(m.x))
			s += (cc*m.x[i] - m.y[i]) * m.x[i]
		}
		noise = -h * (s/float64(m.batch) - mu)
	}
	return a - h*mean*b + noise*va, b - h*mean*a + noise*vb
}

func run(specPath, fpPath string, n, sub int, seed uint64) error {
	if specPath == "" {
		return errors.New("give -spec")
	}
	s, err := spec.Load(specPath)
	if err != nil {
		return err
	}
	st, err := sgd.FromSpec(s, 0)
	if err != nil {
		return err
	}
	m, err := newMoments(s, st)
	if err != nil {
		return err
	}
	c := st.Config

	g := st.Grid
	if g.Dim() != 2 {
		return errors.New("the grid must have the two axes a, b")
	}
	co := st.Check.Coarsen
	if co < 1 {
		co = 1
	}
	shape := [2]int{len(g.Edges(0)) - 1, len(g.Edges(1)) - 1}
	if shape[0]%co != 0 || shape[1]%co != 0 {
		return fmt.Errorf("cells %v are not multiples of coarsen %d", shape, co)
	}
	nb := [2]int{shape[0] / co, shape[1] / co}
	if g.Index([]int{1, 0}) != shape[1] {
		return errors.New("unexpected cell order")
	}
	// locate returns the cell of x on the edges e (e[i] ≤ x < e[i+1]), or
	// −1 outside.
	locate := func(e []float64, x float64) int {
		if !(x >= e[0]) || !(x < e[len(e)-1]) {
			return -1
		}
		return sort.Search(len(e), func(i int) bool { return e[i] > x }) - 1
	}
	bin := func(a, b float64) int {
		i := locate(g.Edges(0), a)
		j := locate(g.Edges(1), b)
		if i < 0 || j < 0 {
			return -1
		}
		return (i/co)*nb[1] + j/co
	}
	times, steps, err := st.StepTimes(c.LearningRate)
	if err != nil {
		return err
	}
	// Initial positions from the spec's initial density on the grid, as
	// the chains of `fokker sgd` draw them.
	p0 := make([]float64, g.Len())
	if err := st.Base.InitialDensity(p0); err != nil {
		return err
	}
	cum := make([]float64, len(p0))
	tot := 0.0
	for l, p := range p0 {
		tot += p * g.Volume(l)
		cum[l] = tot
	}

	nt := len(steps)
	pts := st.Check.Points
	hist, region := newTally(nt, nb[0]*nb[1]+1, len(pts))
	workers := runtime.GOMAXPROCS(0)
	const chunk = 1000
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, rg := newTally(nt, nb[0]*nb[1]+1, len(pts))
			ctr := make([]float64, 2)
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				if k*chunk >= n {
					break
				}
				for e := ensemble(0); e < nEnsembles; e++ {
					r := rand.New(rand.NewPCG(seed, uint64(k)*uint64(nEnsembles)+uint64(e)))
					for p := k * chunk; p < min((k+1)*chunk, n); p++ {
						l := min(sort.SearchFloat64s(cum, r.Float64()*tot), len(cum)-1)
						g.Centre(ctr, l)
						a := ctr[0] + (r.Float64()-0.5)*width(g.Edges(0), l/shape[1])
						b := ctr[1] + (r.Float64()-0.5)*width(g.Edges(1), l%shape[1])
						done := 0
						for t, ks := range steps {
							if e == sde {
								hs := c.LearningRate / float64(sub)
								for ; done < ks*sub; done++ {
									a, b = m.step(e, a, b, hs, r)
								}
							} else {
								for ; done < ks; done++ {
									a, b = m.step(e, a, b, c.LearningRate, r)
								}
							}
							if i := bin(a, b); i >= 0 {
								h[e][t][i]++
							} else {
								h[e][t][nb[0]*nb[1]]++
							}
							for q, pt := range pts {
								if math.Hypot(a-pt[0], b-pt[1]) <= st.Check.Radius {
									rg[e][t][q]++
								}
							}
						}
					}
				}
			}
			mu.Lock()
			for e := range h {
				for t := range h[e] {
					for i, v := range h[e][t] {
						hist[e][t][i] += v
					}
					for i, v := range rg[e][t] {
						region[e][t][i] += v
					}
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()

	var fp *data.File
	if fpPath != "" {
		if fp, err = data.Open(fpPath); err != nil {
			return err
		}
		defer fp.Close()
		if fp.Len() != g.Len() || fp.Snapshots() != nt+1 && fp.Snapshots() != nt {
			return fmt.Errorf("%s does not hold this spec's grid and snapshots", fpPath)
		}
	}
	nc := int64(st.Check.Chains)
	fmt.Printf("%s: eta %g, batch %d, %d particles per ensemble (SDE at step eta/%d), bins of %d×%d cells, floors for %d chains\n",
		specPath, c.LearningRate, c.BatchSize, n, sub, co, co, nc)
	fmt.Printf("two ensembles of %d from one law differ by about %.2f floors (their own noise)\n", n, math.Sqrt(2*float64(nc)/float64(n)))
	fmt.Printf("%8s %10s %10s %10s", "t", "SDE–SGD", "Gauss–SGD", "SDE–Gauss")
	if fp != nil {
		fmt.Printf(" %10s %10s", "FP–SDE", "FP–SGD")
	}
	fmt.Printf("   escaped (SDE, Gauss, SGD)\n")
	dens := make([]float64, g.Len())
	for t := range steps {
		var P [nEnsembles][]float64
		var esc [nEnsembles]float64
		for e := range P {
			P[e] = normalise(hist[e][t][:nb[0]*nb[1]])
			esc[e] = hist[e][t][nb[0]*nb[1]] / float64(n)
		}
		floor, _ := validation.L1Floor(P[chains], nc)
		fmt.Printf("%8.4g %10.2f %10.2f %10.2f", times[t], l1(P[sde], P[chains])/floor, l1(P[gauss], P[chains])/floor, l1(P[sde], P[gauss])/floor)
		if fp != nil {
			i := t + fp.Snapshots() - nt
			if _, err := fp.Density(dens, i); err != nil {
				return err
			}
			q := make([]float64, nb[0]*nb[1])
			for l, v := range dens {
				ia, ib := l/shape[1], l%shape[1]
				q[(ia/co)*nb[1]+ib/co] += v * g.Volume(l)
			}
			q = normalise(q)
			fmt.Printf(" %10.2f %10.2f", l1(q, P[sde])/floor, l1(q, P[chains])/floor)
		}
		fmt.Printf("   %.4f %.4f %.4f\n", esc[sde], esc[gauss], esc[chains])
	}
	if st.Check.Radius > 0 {
		for q, pt := range pts {
			fmt.Printf("mass within %g of %v:", st.Check.Radius, pt)
			for t := range steps {
				fmt.Printf("  t=%g", times[t])
				for e := range region {
					fmt.Printf(" %s %.4f", ensembleNames[e], region[e][t][q]/float64(n))
				}
			}
			fmt.Println()
		}
	}
	return nil
}

// tally holds per ensemble and snapshot one count per bin (the last slot
// counts positions outside the box) or per region.
type tally [nEnsembles][][]float64

func newTally(nt, bins, regions int) (hist, region tally) {
	for e := range hist {
		hist[e] = make([][]float64, nt)
		region[e] = make([][]float64, nt)
		for t := range hist[e] {
			hist[e][t] = make([]float64, bins)
			region[e][t] = make([]float64, regions)
		}
	}
	return hist, region
}

// newMoments checks that the spec is the product model and returns the
// moments of its data.
func newMoments(s *spec.Spec, st *sgd.Setup) (*moments, error) {
	if s.SGD == nil || strings.ReplaceAll(s.SGD.Loss, " ", "") != "0.5*(a*b*x-y)^2" {
		return nil, errors.New("the spec's loss is not the product model 0.5*(a*b*x - y)^2")
	}
	c := st.Config
	if c.Sampling != sgd.WithReplacement {
		return nil, errors.New("only batches with replacement are supported")
	}
	x, y := st.Data.Column("x"), st.Data.Column("y")
	if x == nil || y == nil {
		return nil, errors.New("the data need columns x and y")
	}
	m := &moments{x: x, y: y, eta: c.LearningRate, batch: c.BatchSize}
	nr := float64(len(x))
	var sx4, sx3y, sx2y2 float64
	for i := range x {
		x2 := x[i] * x[i]
		m.sxx += x2 / nr
		m.sxy += x[i] * y[i] / nr
		sx4 += x2 * x2 / nr
		sx3y += x2 * x[i] * y[i] / nr
		sx2y2 += x2 * y[i] * y[i] / nr
	}
	m.vxx = sx4 - m.sxx*m.sxx
	m.cxx = sx3y - m.sxx*m.sxy
	m.vxy = sx2y2 - m.sxy*m.sxy
	if c.FreezeAt != nil {
		m.frozen = true
		m.fa, m.fb = c.FreezeAt[0], c.FreezeAt[1]
		m.fc = m.fa * m.fb
		m.fvar, m.fmean = m.variance(m.fc), m.mean(m.fc)
	}

	return m, nil
}

// normalise returns the bin probabilities of the histogram in, conditioned
// on the box.
func normalise(in []float64) []float64 {
	s := 0.0
	for _, v := range in {
		s += v
	}
	out := make([]float64, len(in))
	for i, v := range in {
		out[i] = v / s
	}
	return out
}

func l1(p, q []float64) float64 {
	s := 0.0
	for i := range p {
		s += math.Abs(p[i] - q[i])
	}
	return s
}

func width(e []float64, i int) float64 { return e[i+1] - e[i] }
