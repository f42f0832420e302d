package figure

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Quiver is a plot.Plotter that draws the vectors (U[i], V[i]) as arrows
// at the points (X[i], Y[i]). Arrow lengths on the page are proportional to
// the vectors' magnitudes, the longest being Length. Arrows whose point
// lies outside the data area are not drawn, and zero vectors draw nothing. The axes may be linear or log: directions are taken on
// the page, from the vectors' data-space components scaled by the local
// size of a data unit along each axis.
type Quiver struct {
	X, Y, U, V []float64

	// Length is the page length of the longest arrow. Default (zero): 0.9
	// times the mean spacing of the points on the page, sqrt(area / n).
	Length vg.Length

	// LineStyle is the style of the arrows.
	LineStyle draw.LineStyle

	// Head is the length of the arrow heads of the longest arrows; heads
	// shrink with shorter arrows. Default (zero): 0.3 Length, at most 5
	// points.
	Head vg.Length

	// Centred puts the middle of each arrow at its point; otherwise the
	// arrow starts there.
	Centred bool

	// Halo, if not nil, is drawn under each arrow, wider, to keep arrows
	// visible over both light and dark colours.
	Halo color.Color
}

var _ plot.Plotter = (*Quiver)(nil)

// NewQuiver returns a Quiver of black arrows for the vectors (u, v) at the
// points (x, y). It returns an error if the slices differ in length or any
// value is NaN or infinite.
func NewQuiver(x, y, u, v []float64) (*Quiver, error) {
	n := len(x)
	if len(y) != n || len(u) != n || len(v) != n {
		return nil, fmt.Errorf("figure: quiver lengths differ: x %d, y %d, u %d, v %d", len(x), len(y), len(u), len(v))
	}
	for i := range x {
		for _, w := range [...]float64{x[i], y[i], u[i], v[i]} {
			if isBad(w) {
				return nil, fmt.Errorf("figure: quiver arrow %d at (%g, %g) is (%g, %g)", i, x[i], y[i], u[i], v[i])
			}
		}
	}
	return &Quiver{X: x, Y: y, U: u, V: v, LineStyle: draw.LineStyle{Color: color.Black, Width: vg.Points(0.8)}}, nil
}

// Plot implements plot.Plotter.
func (q *Quiver) Plot(c draw.Canvas, p *plot.Plot) {
	if len(q.X) == 0 {
		return
	}
	trX, trY := p.Transforms(&c)
	// Page vectors: each data component times the page length of a small
	// step along its axis at the arrow's start.
	type arrow struct{ at, d vg.Point }
	arrows := make([]arrow, 0, len(q.X))
	var longest float64
	for i, x := range q.X {
		y := q.Y[i]
		if !shows(&p.X, x) || !shows(&p.Y, y) {
			continue
		}
		at := vg.Point{X: trX(x), Y: trY(y)}
		if !c.Contains(at) {
			continue
		}
		hx := 1e-6 * math.Max(math.Abs(x), p.X.Max-p.X.Min)
		hy := 1e-6 * math.Max(math.Abs(y), p.Y.Max-p.Y.Min)
		d := vg.Point{
			X: vg.Length(q.U[i]) * (trX(x+hx) - at.X) / vg.Length(hx),
			Y: vg.Length(q.V[i]) * (trY(y+hy) - at.Y) / vg.Length(hy),
		}
		if isBad(float64(d.X)) || isBad(float64(d.Y)) {
			continue
		}
		arrows = append(arrows, arrow{at, d})
		longest = math.Max(longest, math.Hypot(float64(d.X), float64(d.Y)))
	}
	if longest == 0 {
		return
	}
	length := q.Length
	if length == 0 {
		size := c.Size()
		length = 0.9 * vg.Length(math.Sqrt(float64(size.X*size.Y)/float64(len(q.X))))
	}
	head := q.Head
	if head == 0 {
		head = min(0.3*length, vg.Points(5))
	}
	scale := float64(length) / longest

	paths := make([]vg.Path, 0, len(arrows))
	for _, a := range arrows {
		dx, dy := float64(a.d.X)*scale, float64(a.d.Y)*scale
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		tail := a.at
		if q.Centred {
			tail = tail.Sub(vg.Point{X: vg.Length(dx / 2), Y: vg.Length(dy / 2)})
		}
		tip := tail.Add(vg.Point{X: vg.Length(dx), Y: vg.Length(dy)})
		h := float64(head) * l / float64(length)
		ux, uy := dx/l, dy/l
		const spread = 0.45 // half-width of the head over its length
		left := tip.Add(vg.Point{X: vg.Length(h * (-ux - spread*uy)), Y: vg.Length(h * (-uy + spread*ux))})
		right := tip.Add(vg.Point{X: vg.Length(h * (-ux + spread*uy)), Y: vg.Length(h * (-uy - spread*ux))})
		var pa vg.Path
		pa.Move(tail)
		pa.Line(tip)
		pa.Move(left)
		pa.Line(tip)
		pa.Line(right)
		paths = append(paths, pa)
	}
	if q.Halo != nil {
		halo := q.LineStyle
		halo.Color = q.Halo
		halo.Width = 2 * q.LineStyle.Width
		c.SetLineStyle(halo)
		for _, pa := range paths {
			c.Stroke(pa)
		}
	}
	c.SetLineStyle(q.LineStyle)
	for _, pa := range paths {
		c.Stroke(pa)
	}
}
