package figure

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fokkerplanck/fokker/grid"
)

// Line is a density on the cells of a 1D grid, drawn as a line through the
// cell centres (a level step across a grid of one cell).
type Line struct {
	// Density has one value per cell.
	Density []float64

	// Label is the legend entry. Default: none.
	Label string

	// Dashed draws a dashed line, as for an exact solution.
	Dashed bool

	// Colour is the colour of the line. Default: black when Dashed,
	// otherwise blue for a single solid line and an ordered sweep through
	// viridis for several (snapshots in time order).
	Colour color.Color
}

// Histogram is a particle histogram, drawn as the density
// Counts[i] / (N * (Edges[i+1] - Edges[i])) of each bin.
type Histogram struct {
	// Edges are the len(Counts)+1 bin edges, increasing; often the edges of
	// the grid, g.Edges(0).
	Edges []float64

	// Counts are the numbers of particles in the bins, >= 0.
	Counts []float64

	// N is the number of particles the density is normalised by, such as
	// all particles launched including those that left the domain.
	// Default: the sum of Counts.
	N float64

	// Label is the legend entry. Default: none.
	Label string

	// Points draws a marker at each bin centre instead of a step line.
	Points bool

	// ErrorBars draws ±sqrt(Counts[i]) / (N * width) about each bin's
	// density: the Poisson counting error.
	ErrorBars bool

	// Colour is the colour of the histogram. Default: vermilion, then
	// green, purple and orange for further histograms.
	Colour color.Color
}

// Snapshots returns the densities ps at times ts as Lines labelled
// FormatTime(ts[i]), for Line1D. It panics if the lengths differ.
func Snapshots(ts []float64, ps [][]float64) []Line {
	if len(ts) != len(ps) {
		panic(fmt.Sprintf("figure: Snapshots: %d times for %d densities", len(ts), len(ps)))
	}
	l := make([]Line, len(ps))
	for i, p := range ps {
		l[i] = Line{Density: p, Label: FormatTime(ts[i])}
	}
	return l
}

// Line1D draws densities on the 1D grid g as lines, with particle
// histograms, against the grid's axis. Options.XScale and YScale select
// linear, log or log-log axes. Its default size is 4.5 by 3.2 inches.
func Line1D(g *grid.Grid, lines []Line, hists []Histogram, o *Options) (*Figure, error) {
	if err := checkGrid("Line1D", g, 1); err != nil {
		return nil, err
	}
	s, err := resolve(o, 4.5*vg.Inch, 3.2*vg.Inch)
	if err != nil {
		return nil, err
	}
	pn, err := s.linePanel(g, s.title(), lines, hists, false)
	if err != nil {
		return nil, err
	}
	f := newFigure(&s, 1, 1)
	f.panels[0] = pn
	return f, nil
}

// linePanel returns the panel of Line1D, drawn sideways (values along the
// horizontal axis) if swap.
func (s *settings) linePanel(g *grid.Grid, title string, lines []Line, hists []Histogram, swap bool) (*panel, error) {
	if len(lines) == 0 && len(hists) == 0 {
		return nil, fmt.Errorf("figure: nothing to draw: no lines and no histograms")
	}
	if err := s.checkValueRange(); err != nil {
		return nil, err
	}
	var solid int
	for i, l := range lines {
		if err := checkField(g, l.Density, lineName(i, l.Label), false); err != nil {
			return nil, err
		}
		if !l.Dashed {
			solid++
		}
	}
	x0, x1 := g.Lower(0), g.Upper(0)
	for i, h := range hists {
		if err := checkHistogram(h, i); err != nil {
			return nil, err
		}
		x0, x1 = math.Min(x0, h.Edges[0]), math.Max(x1, h.Edges[len(h.Edges)-1])
	}

	var ks []*curve
	var labels []string
	width := 0.12 * s.FontSize
	var k int
	for _, l := range lines {
		c := &curve{line: draw.LineStyle{Color: l.Colour, Width: width}}
		if l.Dashed {
			c.line.Width = 0.8 * width
			c.line.Dashes = []vg.Length{0.5 * s.FontSize, 0.3 * s.FontSize}
			if c.line.Color == nil {
				c.line.Color = color.Black
			}
		} else {
			if c.line.Color == nil {
				c.line.Color = lineColour(k, solid)
			}
			k++
		}
		if n := g.Len(); n == 1 {
			c.x = g.Edges(0)
			c.y = []float64{l.Density[0], l.Density[0]}
		} else {
			c.x, c.y = g.Centres(0), l.Density
		}
		ks = append(ks, c)
		labels = append(labels, l.Label)
	}
	for i, h := range hists {
		clr := h.Colour
		if clr == nil {
			clr = histColour[i%len(histColour)]
		}
		ks = append(ks, s.histCurve(h, clr))
		labels = append(labels, h.Label)
	}

	pn, err := s.curvePanel(title, g.Names()[0], "density", [2]float64{x0, x1}, ks, swap)
	if err != nil {
		return nil, err
	}
	s.labelAxes(pn, swap)
	for i, k := range ks {
		if labels[i] != "" {
			pn.addLegend(labels[i], k)
		}
	}
	return pn, nil
}

// labelAxes sets the axis labels of the options, if given, on a panel.
func (s *settings) labelAxes(pn *panel, swap bool) {
	x, y := &pn.plot.X.Label.Text, &pn.plot.Y.Label.Text
	if swap {
		x, y = y, x
	}
	if s.XLabel != "" {
		*x = s.XLabel
	}
	if s.YLabel != "" {
		*y = s.YLabel
	}
}

func lineName(i int, label string) string {
	if label == "" {
		return fmt.Sprintf("line %d", i)
	}
	return fmt.Sprintf("line %d (%q)", i, label)
}

func checkHistogram(h Histogram, i int) error {
	what := fmt.Sprintf("histogram %d", i)
	if h.Label != "" {
		what = fmt.Sprintf("histogram %d (%q)", i, h.Label)
	}
	if err := checkEdges(h.Edges, what); err != nil {
		return err
	}
	if len(h.Counts) != len(h.Edges)-1 {
		return fmt.Errorf("figure: %s has %d counts for %d edges (want %d)", what, len(h.Counts), len(h.Edges), len(h.Edges)-1)
	}
	for j, c := range h.Counts {
		if isBad(c) || c < 0 {
			return fmt.Errorf("figure: %s count %d is %g, want a finite value >= 0", what, j, c)
		}
	}
	if isBad(h.N) || h.N < 0 {
		return fmt.Errorf("figure: %s has N = %g, want a finite value >= 0", what, h.N)
	}
	return nil
}

// histCurve returns the curve of a checked histogram.
func (s *settings) histCurve(h Histogram, clr color.Color) *curve {
	n := h.N
	if n == 0 {
		for _, c := range h.Counts {
			n += c
		}
	}
	if n == 0 {
		n = 1 // all bins empty: a zero density
	}
	nb := len(h.Counts)
	d := make([]float64, nb)
	e := make([]float64, nb)
	for i, c := range h.Counts {
		w := h.Edges[i+1] - h.Edges[i]
		d[i] = c / (n * w)
		e[i] = math.Sqrt(c) / (n * w)
	}
	k := &curve{line: draw.LineStyle{Color: clr, Width: 0.1 * s.FontSize}}
	if h.Points {
		k.line.Width = 0
		k.glyph = draw.GlyphStyle{Color: clr, Radius: 0.17 * s.FontSize, Shape: draw.CircleGlyph{}}
		k.x = make([]float64, nb)
		for i := range k.x {
			k.x[i] = 0.5 * (h.Edges[i] + h.Edges[i+1])
		}
		k.y = d
	} else {
		// A step: both ends of every bin.
		k.x = make([]float64, 0, 2*nb)
		k.y = make([]float64, 0, 2*nb)
		for i := range d {
			k.x = append(k.x, h.Edges[i], h.Edges[i+1])
			k.y = append(k.y, d[i], d[i])
		}
	}
	if h.ErrorBars {
		lo := make([]float64, nb)
		hi := make([]float64, nb)
		for i := range d {
			lo[i], hi[i] = d[i]-e[i], d[i]+e[i]
		}
		if h.Points {
			k.lo, k.hi = lo, hi
		} else {
			// Bars with caps (a glyph size without a shape) at the bin
			// centres of the step line.
			xs := make([]float64, nb)
			for i := range xs {
				xs[i] = 0.5 * (h.Edges[i] + h.Edges[i+1])
			}
			k.sub = &curve{x: xs, y: d, lo: lo, hi: hi, glyph: draw.GlyphStyle{Color: clr, Radius: 0.15 * s.FontSize}}
		}
	}
	return k
}
