package figure

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// curve is a plot.Plotter drawing a polyline, markers and vertical error
// bars through points. Points that an axis cannot show (non-finite, or
// <= 0 on a log axis) break the line; everything is clipped to the data
// area.
type curve struct {
	x, y   []float64
	lo, hi []float64 // ends of the error bars; nil for none
	line   draw.LineStyle
	glyph  draw.GlyphStyle // Radius 0: no markers
	swap   bool            // draw (y, x): values along the horizontal axis
	sub    *curve          // drawn after this one, without a legend
}

var (
	_ plot.Plotter     = (*curve)(nil)
	_ plot.Thumbnailer = (*curve)(nil)
)

func isLogAxis(a *plot.Axis) bool {
	_, ok := a.Scale.(plot.LogScale)
	return ok
}

// shows reports whether axis a can show the value v.
func shows(a *plot.Axis, v float64) bool {
	return !isBad(v) && (v > 0 || !isLogAxis(a))
}

func (k *curve) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ax, ay := &p.X, &p.Y
	if k.swap {
		ax, ay = ay, ax
	}
	// pt returns the page position of the position x and value y.
	pt := func(x, y float64) vg.Point {
		if k.swap {
			return vg.Point{X: trX(y), Y: trY(x)}
		}
		return vg.Point{X: trX(x), Y: trY(y)}
	}
	if k.sub != nil {
		defer k.sub.Plot(c, p)
		k.sub.swap = k.swap
	}
	if k.line.Width > 0 {
		var lines [][]vg.Point
		var cur []vg.Point
		for i, x := range k.x {
			if shows(ax, x) && shows(ay, k.y[i]) {
				cur = append(cur, pt(x, k.y[i]))
				continue
			}
			if len(cur) > 1 {
				lines = append(lines, cur)
			}
			cur = nil
		}
		if len(cur) > 1 {
			lines = append(lines, cur)
		}
		c.StrokeLines(k.line, c.ClipLinesXY(lines...)...)
	}
	if k.lo != nil {
		bar := draw.LineStyle{Color: k.glyph.Color, Width: 0.4 * k.glyph.Radius}
		floor := ay.Min
		for i, x := range k.x {
			lo, hi := k.lo[i], k.hi[i]
			if isLogAxis(ay) && lo <= 0 {
				lo = floor
			}
			if !shows(ax, x) || !shows(ay, lo) || !shows(ay, hi) || hi <= lo {
				continue
			}
			a, b := pt(x, lo), pt(x, hi)
			cap := vg.Point{X: k.glyph.Radius, Y: 0}
			if k.swap {
				cap = vg.Point{X: 0, Y: k.glyph.Radius}
			}
			segs := [][]vg.Point{{a, b}, {a.Sub(cap), a.Add(cap)}, {b.Sub(cap), b.Add(cap)}}
			c.StrokeLines(bar, c.ClipLinesXY(segs...)...)
		}
	}
	if k.glyph.Radius > 0 {
		for i, x := range k.x {
			if !shows(ax, x) || !shows(ay, k.y[i]) {
				continue
			}
			if q := pt(x, k.y[i]); c.Contains(q) {
				c.DrawGlyph(k.glyph, q)
			}
		}
	}
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (k *curve) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	if k.line.Width > 0 {
		c.StrokeLine2(k.line, c.Min.X, y, c.Max.X, y)
	}
	if k.glyph.Radius > 0 {
		c.DrawGlyph(k.glyph, c.Center())
	}
}

// Colours of lines and markers that are told apart by colour-blind readers
// (Okabe and Ito, 2008).
var (
	blue       = color.NRGBA{R: 0, G: 114, B: 178, A: 255}
	vermilion  = color.NRGBA{R: 213, G: 94, B: 0, A: 255}
	green      = color.NRGBA{R: 0, G: 158, B: 115, A: 255}
	purple     = color.NRGBA{R: 204, G: 121, B: 167, A: 255}
	orange     = color.NRGBA{R: 230, G: 159, B: 0, A: 255}
	histColour = []color.Color{vermilion, green, purple, orange}
)

// lineColour returns the default colour of solid line i of n: blue for a
// single line, an ordered sweep through viridis (stopping short of its
// light yellow end) for snapshots.
func lineColour(i, n int) color.Color {
	if n <= 1 {
		return blue
	}
	return viridisAt(0.85*float64(i)/float64(n-1), 1)
}

// curvePanel returns a panel of the curves ks against positions on the
// range pos of the horizontal axis (the vertical one if swap), with the
// value axis ranged over the curves' values by the settings of s.
func (s *settings) curvePanel(title, poslabel, vallabel string, pos [2]float64, ks []*curve, swap bool) (*panel, error) {
	xlabel, ylabel := poslabel, vallabel
	if swap {
		xlabel, ylabel = ylabel, xlabel
	}
	p := s.newPlot(title, xlabel, ylabel)
	for _, k := range ks {
		k.swap = swap
		p.Add(k)
	}
	pa, va := &p.X, &p.Y
	if swap {
		pa, va = va, pa
	}

	// Position axis.
	if s.XScale == Log {
		if pos[1] <= 0 {
			return nil, fmt.Errorf("figure: a log %s scale needs positive positions, but all are <= 0", poslabel)
		}
		if pos[0] <= 0 {
			pos[0] = math.Inf(1)
			for _, k := range ks {
				for _, x := range k.x {
					if x > 0 {
						pos[0] = math.Min(pos[0], x)
					}
				}
			}
			if isBad(pos[0]) || pos[0] >= pos[1] {
				pos[0] = pos[1] / 10
			}
		}
		pa.Scale = plot.LogScale{}
		pa.Tick.Marker = logTicks{}
		pa.Tick.Label.Handler = newPowers()
	}
	pa.Min, pa.Max = pos[0], pos[1]

	// Value axis.
	var vals [][]float64
	for _, k := range ks {
		vals = append(vals, k.y)
		if k.hi != nil {
			vals = append(vals, k.hi)
			if s.YScale == Linear {
				vals = append(vals, k.lo)
			}
		}
	}
	lo, hi := autoRange(s.YScale == Log, s.Decades, vals...)
	if s.YScale == Log {
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		va.Scale = plot.LogScale{}
		va.Tick.Marker = logTicks{}
		va.Tick.Label.Handler = newPowers()
	} else {
		// A margin of 5% above positive and below negative values, where
		// it does not overflow.
		d := 0.05 * (hi - lo)
		if hi > 0 && !isBad(hi+d) {
			hi += d
		}
		if lo < 0 && !isBad(lo-d) {
			lo -= d
		}
	}
	if s.YMin != 0 {
		lo = s.YMin
	}
	if s.YMax != 0 {
		hi = s.YMax
	}
	if !(lo < hi) {
		return nil, fmt.Errorf("figure: value range [%g, %g] is empty", lo, hi)
	}
	va.Min, va.Max = lo, hi
	pn := newPanel(p)
	pn.curves = ks
	pn.autoTop = !swap && s.YMax == 0
	return pn, nil
}

// checkValueRange returns an error if the value range fixed in s cannot be
// used.
func (s *settings) checkValueRange() error {
	if s.YScale == Log && (s.YMin < 0 || s.YMax < 0) {
		return fmt.Errorf("figure: a log value scale needs a positive range, got [%g, %g]", s.YMin, s.YMax)
	}
	if s.YMin != 0 && s.YMax != 0 && !(s.YMin < s.YMax) {
		return fmt.Errorf("figure: value range [%g, %g] is empty", s.YMin, s.YMax)
	}
	return nil
}
