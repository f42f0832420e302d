package figure

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fokkerplanck/fokker/grid"
)

// cellMap is a plot.Plotter that fills every cell of a 2D grid, between its
// true edges, with the colour of its value. plotter.HeatMap cannot be used
// for grids with cells of unequal widths: it puts cell boundaries halfway
// between neighbouring centres and mirrors the end cells about their
// centres, which misplaces both the inner boundaries and the outer edges of
// a stretched grid. It also pads the plot with a glyph box per cell.
//
// cellMap draws a raster at the resolution of the canvas, colouring each
// device pixel by the cell that contains its centre, so that cells of any
// width meet without seams. The plot's axes must be linear.
type cellMap struct {
	xe, ye []float64     // edges along x and y
	rgba   []color.NRGBA // colour of cell (i, j) at i*ny + j
}

// newCellMap returns the cells of the 2D field z (row-major, x slowest) on
// edges xe and ye, coloured by s.
func newCellMap(xe, ye, z []float64, s *colourScale) *cellMap {
	m := &cellMap{xe: xe, ye: ye, rgba: make([]color.NRGBA, len(z))}
	for l, v := range z {
		m.rgba[l] = s.at(v)
	}
	return m
}

// DataRange implements plot.DataRanger.
func (m *cellMap) DataRange() (xmin, xmax, ymin, ymax float64) {
	return m.xe[0], m.xe[len(m.xe)-1], m.ye[0], m.ye[len(m.ye)-1]
}

// Plot implements plot.Plotter.
func (m *cellMap) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	// The part of the grid within the axes, in data and page coordinates.
	x0, x1 := math.Max(m.xe[0], p.X.Min), math.Min(m.xe[len(m.xe)-1], p.X.Max)
	y0, y1 := math.Max(m.ye[0], p.Y.Min), math.Min(m.ye[len(m.ye)-1], p.Y.Max)
	if !(x0 < x1 && y0 < y1) {
		return
	}
	r := vg.Rectangle{Min: vg.Point{X: trX(x0), Y: trY(y0)}, Max: vg.Point{X: trX(x1), Y: trY(y1)}}
	dpi := 300.0
	if d, ok := c.Canvas.(interface{ DPI() float64 }); ok {
		dpi = d.DPI()
	}
	w := int(math.Ceil(float64(r.Size().X.Dots(dpi))))
	h := int(math.Ceil(float64(r.Size().Y.Dots(dpi))))
	if w < 1 || h < 1 {
		return
	}
	// Cell index of every pixel column and row.
	col := make([]int, w)
	for k := range col {
		x := x0 + (x1-x0)*(float64(k)+0.5)/float64(w)
		col[k] = cellOf(m.xe, x)
	}
	row := make([]int, h)
	for k := range row {
		y := y1 - (y1-y0)*(float64(k)+0.5)/float64(h) // image rows run downwards
		row[k] = cellOf(m.ye, y)
	}
	ny := len(m.ye) - 1
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for k, j := range row {
		line := img.Pix[k*img.Stride:]
		for q, i := range col {
			cl := m.rgba[i*ny+j]
			line[4*q], line[4*q+1], line[4*q+2], line[4*q+3] = cl.R, cl.G, cl.B, cl.A
		}
	}
	c.DrawImage(r, img)
}

// cellOf returns the index of the cell of edges e that contains x, clamped
// to the first and last cells.
func cellOf(e []float64, x float64) int {
	i := sort.SearchFloat64s(e, x) - 1 // e[i] < x <= e[i+1]
	return max(0, min(i, len(e)-2))
}

// GridXYZ returns z, a field on the 2D grid g, as a plotter.GridXYZ with
// columns along the first axis and rows along the second, placed at the
// cell centres. It lets gonum plotters such as plotter.Contour draw fields
// of fokker. It panics if g is not 2D or len(z) != g.Len().
func GridXYZ(g *grid.Grid, z []float64) plotter.GridXYZ {
	if g.Dim() != 2 {
		panic(fmt.Sprintf("figure: GridXYZ needs a 2D grid, got %dD", g.Dim()))
	}
	if len(z) != g.Len() {
		panic(fmt.Sprintf("figure: GridXYZ: field has %d values, grid has %d cells", len(z), g.Len()))
	}
	return centresXYZ{x: g.Centres(0), y: g.Centres(1), z: z}
}

type centresXYZ struct{ x, y, z []float64 }

func (g centresXYZ) Dims() (c, r int)   { return len(g.x), len(g.y) }
func (g centresXYZ) Z(c, r int) float64 { return g.z[c*len(g.y)+r] }
func (g centresXYZ) X(c int) float64    { return g.x[c] }
func (g centresXYZ) Y(r int) float64    { return g.y[r] }
func (g centresXYZ) Min() (v float64)   { v, _ = minMax(g.z); return v }
func (g centresXYZ) Max() (v float64)   { _, v = minMax(g.z); return v }
func minMax(z []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range z {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}

// colourBar is a vertical colour bar with ticks and a label on its right,
// drawn beside the data area of a heat map. plotter.ColorBar is a plotter
// inside a plot of its own, whose axis gonum can only draw on the left and
// only for a linear map; this bar puts the ticks on the right, as readers
// expect, and follows a log colour scale.
type colourBar struct {
	scale       *colourScale
	label       string
	tick, title text.Style
	tickLen     vg.Length
	stripWidth  vg.Length
	gap         vg.Length // between the data area and the strip
}

func (s *settings) newColourBar(cs *colourScale, label string) *colourBar {
	b := &colourBar{
		scale:      cs,
		label:      label,
		tick:       s.textStyle(s.tickSize()),
		title:      s.textStyle(s.labelSize()),
		tickLen:    0.4 * s.FontSize,
		stripWidth: 1.2 * s.FontSize,
		gap:        0.8 * s.FontSize,
	}
	b.tick.YAlign = draw.YCenter
	if cs.log {
		b.tick.Handler = newPowers()
	}
	b.title.XAlign = draw.XCenter
	b.title.YAlign = draw.YTop
	b.title.Rotation = math.Pi / 2 // reads upwards; YTop puts it right of the anchor
	return b
}

// ticks returns the labelled ticks and minor ticks of the bar.
func (b *colourBar) ticks() []plot.Tick {
	if b.scale.log {
		return logTicks{}.Ticks(b.scale.lo, b.scale.hi)
	}
	return linearTicks(b.scale.lo, b.scale.hi)
}

// width returns the page width the bar needs right of the data area.
func (b *colourBar) width() vg.Length {
	var lw vg.Length
	for _, t := range b.ticks() {
		lw = max(lw, b.tick.Width(t.Label))
	}
	w := b.gap + b.stripWidth + b.tickLen + 0.3*b.tick.Font.Size + lw
	if b.label != "" {
		w += 0.5*b.title.Font.Size + b.title.Height(b.label)
	}
	return w
}

// draw draws the bar right of the data area r.
func (b *colourBar) draw(c draw.Canvas, r vg.Rectangle) {
	strip := vg.Rectangle{
		Min: vg.Point{X: r.Max.X + b.gap, Y: r.Min.Y},
		Max: vg.Point{X: r.Max.X + b.gap + b.stripWidth, Y: r.Max.Y},
	}
	img := image.NewNRGBA(image.Rect(0, 0, 1, len(b.scale.lut)))
	for i, cl := range b.scale.lut {
		img.SetNRGBA(0, len(b.scale.lut)-1-i, cl)
	}
	c.DrawImage(strip, img)
	line := draw.LineStyle{Color: color.Black, Width: frameWidth}
	c.SetLineStyle(line)
	c.Stroke(strip.Path())

	x := strip.Max.X
	var lw vg.Length
	for _, t := range b.ticks() {
		u := b.scale.norm(t.Value)
		y := strip.Min.Y + vg.Length(u)*(strip.Max.Y-strip.Min.Y)
		n := b.tickLen
		if t.IsMinor() {
			n /= 2
		}
		c.StrokeLine2(line, x, y, x+n, y)
		if !t.IsMinor() {
			c.FillText(b.tick, vg.Point{X: x + b.tickLen + 0.3*b.tick.Font.Size, Y: y}, t.Label)
			lw = max(lw, b.tick.Width(t.Label))
		}
	}
	if b.label != "" {
		lx := x + b.tickLen + 0.3*b.tick.Font.Size + lw + 0.5*b.title.Font.Size
		c.FillText(b.title, vg.Point{X: lx, Y: (strip.Min.Y + strip.Max.Y) / 2}, b.label)
	}
}
