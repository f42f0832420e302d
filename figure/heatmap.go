package figure

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fokkerplanck/fokker/grid"
)

// Overlay is a layer drawn over a 2D heat map by HeatMap2D: *Contours,
// *Arrows or *Points.
type Overlay interface {
	// plotter returns the layer for the 2D grid g, with text sizes from s.
	plotter(g *grid.Grid, s *settings) (plot.Plotter, error)
}

var (
	_ Overlay = (*Contours)(nil)
	_ Overlay = (*Arrows)(nil)
	_ Overlay = (*Points)(nil)
)

// Contours draws contour lines of a field on the grid of the heat map, such
// as a potential or a loss landscape.
type Contours struct {
	// Field has one value per cell of the grid; the lines interpolate it
	// between cell centres.
	Field []float64

	// Levels are the values to draw lines at. Default: 8 levels evenly
	// spaced strictly between the field's minimum and maximum.
	Levels []float64

	// Colour is the colour of the lines. Default: white.
	Colour color.Color

	// Width is the width of the lines. Default: 0.08 times the font size.
	Width vg.Length
}

func (o *Contours) plotter(g *grid.Grid, s *settings) (plot.Plotter, error) {
	if err := checkField(g, o.Field, "contour field", false); err != nil {
		return nil, err
	}
	levels := o.Levels
	for i, v := range levels {
		if isBad(v) {
			return nil, fmt.Errorf("figure: contour level %d is %g", i, v)
		}
	}
	sh := g.Shape()
	if sh[0] < 2 || sh[1] < 2 {
		return nil, nil // a contour needs two cells along each axis
	}
	lo, hi := minMax(o.Field)
	if levels == nil {
		if lo == hi {
			return nil, nil
		}
		const n = 8
		levels = make([]float64, n)
		for i := range levels {
			levels[i] = lo + (hi-lo)*float64(i+1)/(n+1)
		}
	} else {
		levels = append([]float64(nil), levels...) // plotter.Contour sorts them
	}
	if len(levels) == 0 {
		return nil, nil
	}
	sty := draw.LineStyle{Color: o.Colour, Width: o.Width}
	if sty.Color == nil {
		sty.Color = color.White
	}
	if sty.Width == 0 {
		sty.Width = 0.08 * s.FontSize
	}
	c := plotter.NewContour(GridXYZ(g, o.Field), levels, nil)
	c.LineStyles = []draw.LineStyle{sty}
	c.Min, c.Max = math.Inf(-1), math.Inf(1) // draw every level in sty
	// Only Plot: the contour's glyph boxes would pad the data area.
	return plotOnly{c}, nil
}

// plotOnly hides all but the Plot method of a plotter.
type plotOnly struct{ p plot.Plotter }

func (p plotOnly) Plot(c draw.Canvas, plt *plot.Plot) { p.p.Plot(c, plt) }

// Arrows draws a vector field on the grid of the heat map as arrows (a
// quiver) on a coarser subsample of the cells.
type Arrows struct {
	// U and V are the components along the first and second axis, one
	// value per cell of the grid.
	U, V []float64

	// Every draws an arrow centred on every Every-th cell along each axis,
	// starting half a stride in. Default: up to 20 arrows evenly spaced
	// along each axis, each showing the vector of the cell its middle is
	// in, which keeps arrows evenly spread on stretched grids.
	Every int

	// Colour is the colour of the arrows. Default: white, with a dark halo.
	Colour color.Color
}

func (o *Arrows) plotter(g *grid.Grid, s *settings) (plot.Plotter, error) {
	if err := checkField(g, o.U, "arrow component U", false); err != nil {
		return nil, err
	}
	if err := checkField(g, o.V, "arrow component V", false); err != nil {
		return nil, err
	}
	if o.Every < 0 {
		return nil, fmt.Errorf("figure: arrow stride must be positive, got %d", o.Every)
	}
	// Arrow positions: every Every-th cell, or up to 20 points evenly
	// spaced along each axis (so that a stretched grid gets no clusters)
	// taking the vector of the cell that contains each.
	var pos [2][]float64
	var cell [2][]int
	for k := range 2 {
		c, e := g.Centres(k), g.Edges(k)
		if o.Every > 0 {
			for i := o.Every / 2; i < len(c); i += o.Every {
				pos[k] = append(pos[k], c[i])
				cell[k] = append(cell[k], i)
			}
			continue
		}
		m := min(len(c), 20)
		lo, hi := e[0], e[len(e)-1]
		for i := range m {
			x := lo + (hi-lo)*(float64(i)+0.5)/float64(m)
			pos[k] = append(pos[k], x)
			cell[k] = append(cell[k], cellOf(e, x))
		}
	}
	n1 := g.Shape()[1]
	var x, y, u, v []float64
	for a, i := range cell[0] {
		for b, j := range cell[1] {
			l := i*n1 + j
			x = append(x, pos[0][a])
			y = append(y, pos[1][b])
			u = append(u, o.U[l])
			v = append(v, o.V[l])
		}
	}
	q, err := NewQuiver(x, y, u, v)
	if err != nil {
		return nil, err
	}
	q.LineStyle.Width = 0.08 * s.FontSize
	q.Centred = true // arrows stay inside the heat map
	q.LineStyle.Color = o.Colour
	if o.Colour == nil {
		q.LineStyle.Color = color.White
		q.Halo = color.NRGBA{A: 90}
	}
	// The longest arrow is about as long as the mean spacing of the arrows.
	dx := (g.Upper(0) - g.Lower(0)) / float64(len(pos[0]))
	dy := (g.Upper(1) - g.Lower(1)) / float64(len(pos[1]))
	return &spacedQuiver{q: q, dx: dx, dy: dy}, nil
}

// spacedQuiver sizes a quiver's longest arrow to 0.9 of the page spacing of
// its subsample, taken along the tighter axis.
type spacedQuiver struct {
	q      *Quiver
	dx, dy float64
}

func (s *spacedQuiver) Plot(c draw.Canvas, p *plot.Plot) {
	size := c.Size()
	w := float64(size.X) * s.dx / (p.X.Max - p.X.Min)
	h := float64(size.Y) * s.dy / (p.Y.Max - p.Y.Min)
	s.q.Length = vg.Length(0.9 * math.Min(w, h))
	s.q.Plot(c, p)
}

// Points draws markers at given positions over the heat map, such as a
// sample of particles or the minima of a landscape.
type Points struct {
	// X and Y are the positions along the first and second axis.
	X, Y []float64

	// Colour is the colour of the markers. Default: vermilion.
	Colour color.Color

	// Radius is the radius of the markers. Default: 0.15 times the font
	// size.
	Radius vg.Length
}

func (o *Points) plotter(_ *grid.Grid, s *settings) (plot.Plotter, error) {
	if len(o.X) != len(o.Y) {
		return nil, fmt.Errorf("figure: points have %d x and %d y values", len(o.X), len(o.Y))
	}
	for i := range o.X {
		if isBad(o.X[i]) || isBad(o.Y[i]) {
			return nil, fmt.Errorf("figure: point %d is (%g, %g)", i, o.X[i], o.Y[i])
		}
	}
	k := &curve{x: o.X, y: o.Y, glyph: draw.GlyphStyle{Color: o.Colour, Radius: o.Radius, Shape: draw.CircleGlyph{}}}
	if k.glyph.Color == nil {
		k.glyph.Color = vermilion
	}
	if k.glyph.Radius == 0 {
		k.glyph.Radius = 0.15 * s.FontSize
	}
	return k, nil
}

// HeatMap2D draws the density p on the 2D grid g as a heat map, each cell
// filled between its true edges, with a colour bar on its right and the
// overlays on top. The first axis runs horizontally. Its default size is 5
// by 4 inches.
func HeatMap2D(g *grid.Grid, p []float64, o *Options, overlays ...Overlay) (*Figure, error) {
	if err := checkGrid("HeatMap2D", g, 2); err != nil {
		return nil, err
	}
	s, err := resolve(o, 5*vg.Inch, 4*vg.Inch)
	if err != nil {
		return nil, err
	}
	if err := checkField(g, p, "density", false); err != nil {
		return nil, err
	}
	cs, err := s.newColourScale(p)
	if err != nil {
		return nil, err
	}
	names := g.Names()
	pn := s.heatPanel(s.title(), names[0], names[1], g.Edges(0), g.Edges(1), p, cs, s.ColourLabel)
	s.labelAxes(pn, false)
	for _, ov := range overlays {
		if ov == nil {
			panic("figure: HeatMap2D: nil overlay")
		}
		pl, err := ov.plotter(g, &s)
		if err != nil {
			return nil, err
		}
		if pl != nil {
			pn.plot.Add(pl)
		}
	}
	f := newFigure(&s, 1, 1)
	f.panels[0] = pn
	return f, nil
}

// heatPanel returns a panel of the field z (x slowest) on cells with edges
// xe and ye, coloured by cs, with a colour bar labelled bar.
func (s *settings) heatPanel(title, xlabel, ylabel string, xe, ye, z []float64, cs *colourScale, bar string) *panel {
	p := s.newPlot(title, xlabel, ylabel)
	p.Add(newCellMap(xe, ye, z, cs))
	p.X.Min, p.X.Max = xe[0], xe[len(xe)-1]
	p.Y.Min, p.Y.Max = ye[0], ye[len(ye)-1]
	pn := newPanel(p)
	pn.bar = s.newColourBar(cs, bar)
	return pn
}
