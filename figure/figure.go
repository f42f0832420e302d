package figure

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Figure is one or more gonum plots tiled on a page with aligned data
// areas, heat maps with a colour bar on their right, under an optional
// title. Line1D, HeatMap2D, Slices3D, Compare and Density make Figures;
// Plot gives access to their plots for adjustments before saving.
//
// A Figure refers to the line and histogram data it was made from: change
// those slices only after the last Draw. Drawing places legends where they
// cover no data, which may raise the top of an automatic value axis, so a
// Figure must not be drawn concurrently.
type Figure struct {
	// Title is drawn centred above all plots. Figures of one plot carry
	// their title in the plot instead.
	Title string

	// Width and Height are the size of the page.
	Width, Height vg.Length

	// DPI is the resolution of the PNG in dots per inch.
	DPI int

	rows, cols int
	panels     []*panel // row-major; nil for an empty tile
	titleStyle text.Style
	space      vg.Length // the unit of spacing: the label font size
}

// panel is one tile of a figure: a plot, with a colour bar or a legend.
type panel struct {
	plot   *plot.Plot
	bar    *colourBar // nil: none
	legend []string   // legend entries, as added to plot.Legend
	box    *legendBox // background of the legend, the last plotter

	// For placing the legend: the curves drawn, and whether the top of
	// the value axis (the vertical one) may be raised to make room.
	curves  []*curve
	autoTop bool
}

func newFigure(s *settings, rows, cols int) *Figure {
	f := &Figure{
		Width:  s.w,
		Height: s.h,
		DPI:    s.DPI,
		rows:   rows,
		cols:   cols,
		panels: make([]*panel, rows*cols),
		space:  s.FontSize,
	}
	f.titleStyle = s.textStyle(s.titleSize())
	f.titleStyle.XAlign = draw.XCenter
	f.titleStyle.YAlign = draw.YTop
	return f
}

// newPanel returns a panel around p.
func newPanel(p *plot.Plot) *panel { return &panel{plot: p} }

// addLegend adds a legend entry to the panel's plot.
func (pn *panel) addLegend(label string, thumbs ...plot.Thumbnailer) {
	if pn.box == nil {
		pn.box = &legendBox{}
		pn.plot.Add(pn.box)
	}
	pn.plot.Legend.Add(label, thumbs...)
	pn.legend = append(pn.legend, label)
}

// Dims returns the number of rows and columns of plots.
func (f *Figure) Dims() (rows, cols int) { return f.rows, f.cols }

// Plot returns the plot in row r and column c, or nil if that tile is
// empty. It panics if r or c is out of range.
func (f *Figure) Plot(r, c int) *plot.Plot {
	if r < 0 || r >= f.rows || c < 0 || c >= f.cols {
		panic(fmt.Sprintf("figure: plot (%d, %d) out of range for %d×%d figure", r, c, f.rows, f.cols))
	}
	if pn := f.panels[r*f.cols+c]; pn != nil {
		return pn.plot
	}
	return nil
}

// Draw draws the figure on c.
func (f *Figure) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	pad := 0.6 * f.space
	if f.Title != "" {
		c.FillText(f.titleStyle, vg.Point{X: c.Center().X, Y: c.Max.Y - pad}, f.Title)
		c.Max.Y -= f.titleStyle.Height(f.Title) + 2*pad
	}

	// Room for the colour bars: right of each column.
	var inner, last vg.Length
	plots := make([][]*plot.Plot, f.rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, f.cols)
		for k := range plots[r] {
			pn := f.panels[r*f.cols+k]
			if pn == nil {
				continue
			}
			plots[r][k] = pn.plot
			if pn.bar == nil {
				continue
			}
			if k == f.cols-1 {
				last = max(last, pn.bar.width())
			} else {
				inner = max(inner, pn.bar.width())
			}
		}
	}
	tiles := draw.Tiles{
		Rows: f.rows, Cols: f.cols,
		PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad + last,
		PadX: 2*f.space + inner, PadY: 1.5 * f.space,
	}
	canvases := plot.Align(plots, tiles, c)
	// Making room for legends may change the value axes, and so the
	// layout.
	var raised bool
	for r := range plots {
		for k, p := range plots[r] {
			if pn := f.panels[r*f.cols+k]; p != nil && len(pn.legend) > 0 {
				raised = pn.placeLegend(canvases[r][k], true) || raised
			}
		}
	}
	if raised {
		canvases = plot.Align(plots, tiles, c)
	}

	for r := range plots {
		for k, p := range plots[r] {
			if p == nil {
				continue
			}
			pn := f.panels[r*f.cols+k]
			tc := canvases[r][k]
			if len(pn.legend) > 0 {
				pn.placeLegend(tc, false)
			}
			dc := p.DataCanvas(tc)
			// plot.Plot.Draw centres the title on the tile; centre it on
			// the data area instead.
			sty := p.Title.TextStyle
			p.Title.TextStyle.Color = color.Transparent
			p.Draw(tc)
			p.Title.TextStyle = sty
			if p.Title.Text != "" {
				at := vg.Point{X: fitTitle(&sty, p.Title.Text, dc.Center().X, tc), Y: tc.Max.Y + sty.FontExtents().Descent}
				tc.FillText(sty, at, p.Title.Text)
			}
			dc.SetLineStyle(draw.LineStyle{Color: color.Black, Width: frameWidth})
			dc.Stroke(dc.Rectangle.Path())
			if pn.bar != nil {
				pn.bar.draw(c, dc.Rectangle)
			}
		}
	}
}

// placeLegend puts the legend of the panel inside a top corner of the
// data area of the plot drawn in the tile tc, where it covers no data: the
// right corner if it can, else the left. If it covers data in both and
// raise is true, it raises the top of the value axis, when that was chosen
// automatically, to make room in the corner that needs less and reports
// that it did. It sets the legend's background box.
func (pn *panel) placeLegend(tc draw.Canvas, raise bool) bool {
	p := pn.plot
	l := &p.Legend
	inset := 0.5 * l.TextStyle.Font.Size
	var w, h, eh vg.Length
	for _, e := range pn.legend {
		w = max(w, l.TextStyle.Rectangle(" "+e).Max.X)
		eh = max(eh, l.TextStyle.Rectangle(e).Max.Y)
	}
	for i := range pn.legend {
		h += eh
		if i > 0 {
			h += l.Padding
		}
	}
	w += l.ThumbnailWidth
	m := 0.4 * inset // margin of the box around the entries

	dc := p.DataCanvas(tc)
	box := func(left bool) vg.Rectangle {
		x0 := dc.Max.X - inset - w
		if left {
			x0 = dc.Min.X + inset
		}
		return vg.Rectangle{
			Min: vg.Point{X: x0 - m, Y: dc.Max.Y - inset - h - m},
			Max: vg.Point{X: x0 + w + m, Y: dc.Max.Y - inset + m},
		}
	}
	left := false
	switch {
	case !pn.covers(dc, box(false)):
	case !pn.covers(dc, box(true)):
		left = true
	case raise && pn.autoTop:
		// The highest value under each box fixes how far the top must go.
		right, lt := pn.highest(dc, box(false)), pn.highest(dc, box(true))
		left = lt < right
		v := min(lt, right)
		f := float64((h + 2*inset + 2*m) / (dc.Max.Y - dc.Min.Y)) // part of the height the box takes
		if f < 0.6 && v > p.Y.Min {
			if isLogAxis(&p.Y) {
				p.Y.Max = p.Y.Min * math.Pow(v/p.Y.Min, 1/(1-f))
			} else {
				p.Y.Max = p.Y.Min + (v-p.Y.Min)/(1-f)
			}
			return true
		}
	}

	// plot.Plot.Draw gives the legend the tile less the title and, on the
	// left, less the vertical axis: that is the data area's left edge, as
	// the plotters of figures have no glyph boxes.
	top := tc.Max.Y
	if p.Title.Text != "" {
		top -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	descent := l.TextStyle.FontExtents().Descent
	l.Top, l.Left = true, left
	if left {
		l.XOffs = inset
	} else {
		l.XOffs = dc.Max.X - inset - tc.Max.X
	}
	l.YOffs = dc.Max.Y - inset - top + descent
	pn.box.r = box(left)
	return false
}

// covers reports whether r, on the data area dc, covers any line, marker
// or error bar of the panel's curves.
func (pn *panel) covers(dc draw.Canvas, r vg.Rectangle) bool {
	hit := false
	pn.walk(dc, func(a, b vg.Point, _ float64) {
		hit = hit || segmentHits(a, b, r)
	})
	return hit
}

// highest returns the largest value drawn under the horizontal extent of r,
// or -Inf if there is none.
func (pn *panel) highest(dc draw.Canvas, r vg.Rectangle) float64 {
	v := math.Inf(-1)
	pn.walk(dc, func(a, b vg.Point, hi float64) {
		if max(a.X, b.X) >= r.Min.X && min(a.X, b.X) <= r.Max.X {
			v = math.Max(v, hi)
		}
	})
	return v
}

// walk calls fn with the page ends of every line segment, error bar and
// marker (a segment of length 0) of the panel's curves drawn on dc, and the
// larger of the values at its ends.
func (pn *panel) walk(dc draw.Canvas, fn func(a, b vg.Point, hi float64)) {
	p := pn.plot
	trX, trY := p.Transforms(&dc)
	for _, k := range pn.curves {
		for c := k; c != nil; c = c.sub {
			ax, ay := &p.X, &p.Y
			if c.swap {
				ax, ay = ay, ax
			}
			pt := func(x, y float64) (vg.Point, bool) {
				if !shows(ax, x) || !shows(ay, y) {
					return vg.Point{}, false
				}
				if c.swap {
					return vg.Point{X: trX(y), Y: trY(x)}, true
				}
				return vg.Point{X: trX(x), Y: trY(y)}, true
			}
			var prev vg.Point
			var prevY float64
			var ok bool
			for i, x := range c.x {
				y := c.y[i]
				q, good := pt(x, y)
				switch {
				case good && ok && c.line.Width > 0:
					fn(prev, q, math.Max(y, prevY))
				case good:
					fn(q, q, y)
				}
				prev, prevY, ok = q, y, good
				if c.hi != nil {
					if a, good := pt(x, c.hi[i]); good {
						fn(a, q, c.hi[i])
					}
				}
			}
		}
	}
}

// segmentHits reports whether the segment from a to b meets r.
func segmentHits(a, b vg.Point, r vg.Rectangle) bool {
	// Liang–Barsky clipping of a + t (b - a), t in [0, 1].
	t0, t1 := 0.0, 1.0
	d := b.Sub(a)
	for _, e := range [...]struct{ p, q float64 }{
		{-float64(d.X), float64(a.X - r.Min.X)},
		{float64(d.X), float64(r.Max.X - a.X)},
		{-float64(d.Y), float64(a.Y - r.Min.Y)},
		{float64(d.Y), float64(r.Max.Y - a.Y)},
	} {
		if e.p == 0 {
			if e.q < 0 {
				return false
			}
			continue
		}
		t := e.q / e.p
		if e.p < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

// legendBox is a plot.Plotter that fills the background of a legend so that
// it stays readable over the data.
type legendBox struct{ r vg.Rectangle }

func (b *legendBox) Plot(c draw.Canvas, _ *plot.Plot) {
	if b.r.Size().X <= 0 {
		return
	}
	c.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 220})
	c.Fill(b.r.Path())
	c.SetLineStyle(draw.LineStyle{Color: color.Gray{Y: 160}, Width: 0.5})
	c.Stroke(b.r.Path())
}

// WriteTo writes the figure to w as a PNG image of Width×Height at DPI.
func (f *Figure) WriteTo(w io.Writer) (int64, error) {
	n, err := f.writePNG(w)
	if err != nil {
		return n, fmt.Errorf("figure: %w", err)
	}
	return n, nil
}

func (f *Figure) writePNG(w io.Writer) (int64, error) {
	if !(f.Width > 0 && f.Height > 0) || f.DPI <= 0 {
		return 0, fmt.Errorf("cannot draw a %v by %v figure at %d dpi", f.Width, f.Height, f.DPI)
	}
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(f.DPI))
	f.Draw(draw.New(c))
	n, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("write PNG: %w", err)
	}
	return n, nil
}

// Save writes f to the file path as a PNG image. It writes a temporary file
// in the same directory and renames it, so that path is never left half
// written. path must end in ".png".
func Save(f *Figure, path string) (err error) {
	if ext := filepath.Ext(path); !strings.EqualFold(ext, ".png") {
		return fmt.Errorf("figure: save %s: only PNG is supported (want a .png name)", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("figure: save %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("figure: save %s: %w", path, err)
		}
	}()
	b := bufio.NewWriter(tmp)
	if _, err := f.writePNG(b); err != nil {
		return err
	}
	if err := b.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// fitTitle returns the x position of a title centred at x but kept inside
// the tile, shrinking the font of sty when the title is wider than the tile.
func fitTitle(sty *draw.TextStyle, text string, x vg.Length, tc draw.Canvas) vg.Length {
	avail := tc.Max.X - tc.Min.X
	if w := sty.Width(text); w > avail && w > 0 {
		sty.Font.Size = sty.Font.Size * avail / w * 0.98
	}
	half := sty.Width(text) / 2
	if x-half < tc.Min.X {
		x = tc.Min.X + half
	}
	if x+half > tc.Max.X {
		x = tc.Max.X - half
	}
	return x
}
