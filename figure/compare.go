package figure

import (
	"fmt"

	"gonum.org/v1/plot/vg"

	"github.com/fokkerplanck/fokker/grid"
)

// Density draws the density p on g by the grid's dimension: Line1D for 1D,
// HeatMap2D for 2D and Slices3D for 3D grids.
func Density(g *grid.Grid, p []float64, o *Options) (*Figure, error) {
	if err := checkGrid("Density", g, 1, 2, 3); err != nil {
		return nil, err
	}
	switch g.Dim() {
	case 1:
		return Line1D(g, []Line{{Density: p}}, nil, o)
	case 2:
		return HeatMap2D(g, p, o)
	}
	return Slices3D(g, p, o)
}

// Compare draws a PDE density pde on g beside the density of particles
// counted in the cells of g, counts[l] / (n * volume of cell l), where n is
// the number of particles launched (default, if zero: the sum of counts).
//
// On a 1D grid the particle density is drawn as points with Poisson error
// bars over the PDE line (default size 4.5 by 3.2 inches). On a 2D grid
// three heat maps stand side by side: PDE, particles, and particles − PDE
// in a diverging colour map centred at zero; the first two share one colour
// scale (default size 13 by 3.8 inches). On a 3D grid the three marginals
// are overlaid as in 1D (default size 12 by 3.4 inches).
func Compare(g *grid.Grid, pde, counts []float64, n float64, o *Options) (*Figure, error) {
	if err := checkGrid("Compare", g, 1, 2, 3); err != nil {
		return nil, err
	}
	if err := checkField(g, pde, "PDE density", false); err != nil {
		return nil, err
	}
	if err := checkField(g, counts, "particle counts", true); err != nil {
		return nil, err
	}
	if isBad(n) || n < 0 {
		return nil, fmt.Errorf("figure: number of particles is %g, want a finite value >= 0", n)
	}
	if n == 0 {
		for _, c := range counts {
			n += c
		}
	}
	label := "particles"
	if n > 0 {
		label = fmt.Sprintf("particles (N = %.6g)", n)
	}

	switch g.Dim() {
	case 1:
		h := Histogram{Edges: g.Edges(0), Counts: counts, N: n, Label: label, Points: true, ErrorBars: true}
		return Line1D(g, []Line{{Density: pde, Label: "PDE"}}, []Histogram{h}, o)
	case 2:
		return compare2D(g, pde, counts, n, o)
	}
	return compare3D(g, pde, counts, n, label, o)
}

func compare2D(g *grid.Grid, pde, counts []float64, n float64, o *Options) (*Figure, error) {
	s, err := resolve(o, 13*vg.Inch, 3.8*vg.Inch)
	if err != nil {
		return nil, err
	}
	part := make([]float64, len(counts))
	diff := make([]float64, len(counts))
	for l, c := range counts {
		if n > 0 {
			part[l] = c / (n * g.Volume(l))
		}
		diff[l] = part[l] - pde[l]
	}
	names := g.Names()
	xl, yl := names[0], names[1]
	if s.XLabel != "" {
		xl = s.XLabel
	}
	if s.YLabel != "" {
		yl = s.YLabel
	}
	xe, ye := g.Edges(0), g.Edges(1)
	shared, err := s.newColourScale(pde, part)
	if err != nil {
		return nil, err
	}
	f := newFigure(&s, 1, 3)
	f.Title = s.title()
	f.panels[0] = s.heatPanel("PDE", xl, yl, xe, ye, pde, shared, s.ColourLabel)
	f.panels[1] = s.heatPanel("particles", xl, yl, xe, ye, part, shared, s.ColourLabel)
	f.panels[2] = s.heatPanel("particles − PDE", xl, yl, xe, ye, diff, divergingScale(diff), "difference")
	return f, nil
}

func compare3D(g *grid.Grid, pde, counts []float64, n float64, label string, o *Options) (*Figure, error) {
	s, err := resolve(o, 12*vg.Inch, 3.4*vg.Inch)
	if err != nil {
		return nil, err
	}
	f := newFigure(&s, 1, 3)
	f.Title = s.title()
	ms := s
	ms.XLabel = ""
	for k := range 3 {
		ga, err := grid.New(g.Axis(k))
		if err != nil {
			panic(fmt.Sprintf("figure: axis %d of a valid grid: %v", k, err))
		}
		// Counts summed over the other axes.
		mc := make([]float64, g.Shape()[k])
		stride := g.Strides()[k]
		for l, c := range counts {
			mc[(l/stride)%len(mc)] += c
		}
		h := Histogram{Edges: g.Edges(k), Counts: mc, N: n, Label: label, Points: true, ErrorBars: true}
		pn, err := ms.linePanel(ga, "", []Line{{Density: Marginal(nil, g, pde, k), Label: "PDE"}}, []Histogram{h}, false)
		if err != nil {
			return nil, err
		}
		if s.YLabel == "" {
			pn.plot.Y.Label.Text = "marginal density"
		}
		f.panels[k] = pn
	}
	return f, nil
}
