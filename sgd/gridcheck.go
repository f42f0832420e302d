package sgd

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/fokkerplanck/fokker/spec"
)

// GridCheck estimates the discretisation error of the study's densities
// where the check looks at them: it solves the same configuration on the
// grid with half the cells along every axis (same box, every second edge)
// and sets each Comparison.GridError to the L1 distance between the two
// densities' masses on the compared bins (blocks of Check.Coarsen fine
// cells, Check.Coarsen/2 coarse ones), and FirstOrderGridError to the same
// distance between the two first-order laws; a first-order law that moves
// by more than the check's tolerance is not resolved, and the comparison's
// verdict is set again without it. For a scheme of order q the error
// of the fine density is about that distance over 2^q − 1: the distance
// itself for the first-order (upwinded) fluxes of a rank-one D, a third of
// it for second-order ones — so it is an estimate of the fine density's
// error that is conservative unless the order is below one, not a bound.
//
// It returns ErrNoGridCheck (wrapped, with the reason) when the grid or the
// bins cannot be halved: an odd cell count along an axis, or an odd
// Check.Coarsen. Run calls it after the chains unless Check.NoGridCheck.
func (st *Setup) GridCheck(ctx context.Context, ls *Landscape, sd *Study) error {
	if len(sd.Comparisons) == 0 {
		return nil
	}
	c := st.Check.Coarsen
	if c%2 != 0 {
		return fmt.Errorf("%w: coarsen = %d is odd (the bins must be whole blocks of the half grid)", ErrNoGridCheck, c)
	}
	half, err := st.halfSpec()
	if err != nil {
		return err
	}
	hs, err := fromSpec(half, st.Data, st.available)
	if err != nil {
		return fmt.Errorf("sgd: grid check: %w", err)
	}
	hs.Progress = prefixed(st.Progress, "grid check: ")
	hls, err := EvaluateProgress(hs.Grid, hs.Loss, hs.Data, ls.threads, func(f float64) { hs.progress("landscape", f) })
	if err != nil {
		return fmt.Errorf("sgd: grid check: %w", err)
	}
	sol, err := hs.Solve(ctx, hls, sd.Config, true)
	if err != nil {
		return fmt.Errorf("sgd: grid check: %w", err)
	}
	fine, err := newCoarse(st.Grid, c)
	if err != nil {
		return err
	}
	coarse, err := newCoarse(hs.Grid, c/2)
	if err != nil {
		return err
	}
	if fine.g.Len() != coarse.g.Len() {
		return fmt.Errorf("sgd: grid check: %d bins on the grid, %d on the half grid", fine.g.Len(), coarse.g.Len())
	}
	for i := range sd.Comparisons {
		j := i
		if sd.FP.Stationary {
			j = 0
		}
		cm := &sd.Comparisons[i]
		cm.GridError = binDistance(fine, coarse, sd.FP.Densities[j], sol.Densities[j])
		cm.FirstOrderGridError = binDistance(fine, coarse, sd.FP.Corrected[j], sol.Corrected[j])
		cm.pass()
	}
	return nil
}

// binDistance is the L1 distance between the masses of pf on the bins of
// fine and of pc on the (same) bins of coarse.
func binDistance(fine, coarse *coarse, pf, pc []float64) float64 {
	bf, bc := fine.density(pf), coarse.density(pc)
	e := 0.0
	for b := range bf {
		e += math.Abs(bf[b]*fine.g.Volume(b) - bc[b]*coarse.g.Volume(b))
	}
	return e
}

// ErrNoGridCheck is returned (wrapped) by GridCheck when the grid cannot be
// halved.
var ErrNoGridCheck = errors.New("sgd: no grid check")

// halfSpec returns a copy of the spec whose grid has half the cells along
// every axis (every second edge of a stretched axis).
func (st *Setup) halfSpec() (*spec.Spec, error) {
	s := *st.Spec
	g := s.Grid
	g.Cells = append([]int(nil), g.Cells...)
	if len(g.Edges) > 0 {
		g.Edges = map[string][]float64{}
		for name, e := range st.Spec.Grid.Edges {
			if (len(e)-1)%2 != 0 {
				return nil, fmt.Errorf("%w: axis %q has %d cells, an odd number", ErrNoGridCheck, name, len(e)-1)
			}
			h := make([]float64, 0, len(e)/2+1)
			for i := 0; i < len(e); i += 2 {
				h = append(h, e[i])
			}
			g.Edges[name] = h
		}
	}
	for k, name := range g.Axes {
		if _, ok := g.Edges[name]; ok || k >= len(g.Cells) {
			continue
		}
		if g.Cells[k]%2 != 0 {
			return nil, fmt.Errorf("%w: axis %q has %d cells, an odd number", ErrNoGridCheck, name, g.Cells[k])
		}
		g.Cells[k] /= 2
	}
	s.Grid = g
	return &s, nil
}
