package figure

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/vg"

	"github.com/fokkerplanck/fokker/grid"
)

// Marginal integrates the density p on g over every axis but k, weighting
// by cell widths, writes the marginal density along axis k into dst (length
// g.Shape()[k]) and returns it. If dst is nil a new slice is allocated. The
// marginal has the mass of p: sum_i dst[i]*g.Widths(k)[i]. It panics if k
// is out of range or a length is wrong.
func Marginal(dst []float64, g *grid.Grid, p []float64, k int) []float64 {
	if k < 0 || k >= g.Dim() {
		panic(fmt.Sprintf("figure: Marginal: axis %d out of range for %dD grid", k, g.Dim()))
	}
	if len(p) != g.Len() {
		panic(fmt.Sprintf("figure: Marginal: density has %d values, grid has %d cells", len(p), g.Len()))
	}
	n := g.Shape()[k]
	if dst == nil {
		dst = make([]float64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("figure: Marginal: dst has %d values, axis %d has %d cells", len(dst), k, n))
	}
	clear(dst)
	stride := g.Strides()[k]
	w := g.Widths(k)
	for l, v := range p {
		i := (l / stride) % n
		dst[i] += v * g.Volume(l) / w[i]
	}
	return dst
}

// Slices3D draws a 3D density on g as a heat map of its slice through one
// cell of the third axis, chosen by Options.Slice, beside its three 1D
// marginals: the first axis's below the slice sharing its horizontal axis,
// the second's on its right drawn sideways sharing its vertical axis, and
// the third's in the corner. Its default size is 8 by 6.5 inches.
func Slices3D(g *grid.Grid, p []float64, o *Options) (*Figure, error) {
	if err := checkGrid("Slices3D", g, 3); err != nil {
		return nil, err
	}
	s, err := resolve(o, 8*vg.Inch, 6.5*vg.Inch)
	if err != nil {
		return nil, err
	}
	if err := s.checkValueRange(); err != nil {
		return nil, err
	}
	if err := checkField(g, p, "density", false); err != nil {
		return nil, err
	}
	names := g.Names()
	k := sliceCell(g, p, s.Slice)
	z := slice(g, p, k)

	f := newFigure(&s, 2, 2)
	f.Title = s.title()
	title := fmt.Sprintf("slice %s = %.4g", names[2], g.Centres(2)[k])
	cs, err := s.newColourScale(z)
	if err != nil {
		return nil, err
	}
	heat := s.heatPanel(title, names[0], names[1], g.Edges(0), g.Edges(1), z, cs, s.ColourLabel)
	f.panels[0] = heat

	// The marginals use the value axis of the options; their positions
	// stay linear to line up with the slice.
	ms := s
	ms.XScale = Linear
	ms.XLabel, ms.YLabel = "", ""
	at := [3]int{2, 1, 3} // tiles of the marginals, row-major
	for a := range 3 {
		m := Marginal(nil, g, p, a)
		ga, err := grid.New(g.Axis(a))
		if err != nil {
			panic(fmt.Sprintf("figure: axis %d of a valid grid: %v", a, err))
		}
		pn, err := ms.linePanel(ga, "", []Line{{Density: m}}, nil, a == 1)
		if err != nil {
			return nil, err
		}
		if a == 1 {
			pn.plot.X.Label.Text = "marginal density"
		} else {
			pn.plot.Y.Label.Text = "marginal density"
		}
		f.panels[at[a]] = pn
	}
	return f, nil
}

// sliceCell returns the cell of the third axis that a slice passes
// through.
func sliceCell(g *grid.Grid, p []float64, pos SlicePos) int {
	n := g.Shape()[2]
	if pos == SliceMean {
		m := Marginal(nil, g, p, 2)
		c, w := g.Centres(2), g.Widths(2)
		var mass, first float64
		for i, v := range m {
			mass += v * w[i]
			first += v * w[i] * c[i]
		}
		if mass > 0 {
			mean := first / mass
			best := 0
			for i := range c {
				if math.Abs(c[i]-mean) < math.Abs(c[best]-mean) {
					best = i
				}
			}
			return best
		}
	}
	return n / 2
}

// slice returns the 2D field of p at cell k of the third axis, first axis
// slowest.
func slice(g *grid.Grid, p []float64, k int) []float64 {
	sh, st := g.Shape(), g.Strides()
	z := make([]float64, sh[0]*sh[1])
	for i := range sh[0] {
		for j := range sh[1] {
			z[i*sh[1]+j] = p[i*st[0]+j*st[1]+k*st[2]]
		}
	}
	return z
}
