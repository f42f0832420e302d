package figure

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// Scale is how an axis, or the colour of a heat map, maps data values.
type Scale int

const (
	// Linear gives equal steps to equal differences.
	Linear Scale = iota
	// Log gives equal steps to equal ratios. Values <= 0 are not drawn
	// (lines break there) or take the lowest colour.
	Log
)

// String returns "linear" or "log".
func (s Scale) String() string {
	switch s {
	case Linear:
		return "linear"
	case Log:
		return "log"
	}
	return fmt.Sprintf("Scale(%d)", int(s))
}

// SlicePos selects the cell of the third axis that the heat map drawn by
// Slices3D passes through.
type SlicePos int

const (
	// SliceMiddle is the middle cell of the third axis.
	SliceMiddle SlicePos = iota
	// SliceMean is the cell whose centre is nearest the density's mean
	// along the third axis (the middle cell if the density has no mass).
	SliceMean
)

// String returns "middle" or "mean".
func (s SlicePos) String() string {
	switch s {
	case SliceMiddle:
		return "middle"
	case SliceMean:
		return "mean"
	}
	return fmt.Sprintf("SlicePos(%d)", int(s))
}

// Options holds the settings of a figure. A nil *Options is the same as a
// zero Options, and every field documents its zero-value default. Fields
// that apply to some kinds of figure only say so.
type Options struct {
	// Title is drawn above the figure. Default: no title.
	Title string

	// Time, when not empty, is added to the title, for example
	// FormatTime(0.5) gives "t = 0.5". Default: none.
	Time string

	// XLabel and YLabel label the horizontal and vertical axes of the
	// main plot. Default: the grid's axis names along grid axes and
	// "density" for the value axis of 1D plots.
	XLabel, YLabel string

	// ColourLabel labels the colour bar of heat maps. Default "density".
	ColourLabel string

	// Width and Height are the size of the whole figure, for example
	// 12*vg.Centimeter or 4*vg.Inch. Default (either zero): a size that
	// depends on the kind of figure, given by each function.
	Width, Height vg.Length

	// DPI is the resolution of the PNG in dots per inch. Default 300.
	DPI int

	// FontSize is the size of axis labels; tick labels are 0.85 times and
	// titles 1.15 times this size. Default 10 points.
	FontSize vg.Length

	// XScale and YScale are the scales of the horizontal and vertical axes
	// of 1D plots (Log and Log give a log-log plot for power-law tails).
	// Heat maps always have linear axes. Default Linear.
	XScale, YScale Scale

	// YMin and YMax fix the range of the value axis of 1D plots. Default
	// (zero): the range of the data, from 0 on a Linear scale when all
	// values are non-negative, and whole decades on a Log scale.
	YMin, YMax float64

	// ColourScale is the scale of heat-map colours. Default Linear.
	ColourScale Scale

	// ColourMin and ColourMax fix the range of heat-map colours; values
	// outside take the colour at the nearer end. Default (zero): the range
	// of the data, from 0 on a Linear scale when all values are
	// non-negative.
	ColourMin, ColourMax float64

	// Decades is the most decades below the maximum that an automatic Log
	// range (of the value axis or of colours) reaches down to. Default 10.
	Decades float64

	// ColourMap is the sequential colour map of heat maps. The figure
	// functions sample it over its own range [Min, Max], or [0, 1] if that
	// is empty, and leave it unchanged. Default Viridis().
	ColourMap palette.ColorMap

	// Slice selects the slice drawn by Slices3D. Default SliceMiddle.
	Slice SlicePos
}

// FormatTime returns the label of time t for Options.Time or a legend,
// "t = 0.5", with up to 4 significant digits.
func FormatTime(t float64) string {
	return "t = " + strconv.FormatFloat(t, 'g', 4, 64)
}

// settings is Options with the defaults filled in.
type settings struct {
	Options
	w, h vg.Length
}

// resolve returns o with its defaults, the figure size defaulting to w by h.
// It returns an error for settings that cannot be drawn.
func resolve(o *Options, w, h vg.Length) (settings, error) {
	var s settings
	if o != nil {
		s.Options = *o
	}
	if s.Width < 0 || s.Height < 0 || isBad(float64(s.Width)) || isBad(float64(s.Height)) {
		return s, fmt.Errorf("figure: size must be positive, got %v by %v", s.Width, s.Height)
	}
	s.w, s.h = w, h
	if s.Width > 0 && s.Height > 0 {
		s.w, s.h = s.Width, s.Height
	}
	if s.DPI < 0 {
		return s, fmt.Errorf("figure: DPI must be positive, got %d", s.DPI)
	}
	if s.DPI == 0 {
		s.DPI = 300
	}
	if px := float64(s.w.Dots(float64(s.DPI))) * float64(s.h.Dots(float64(s.DPI))); px > maxPixels {
		return s, fmt.Errorf("figure: %v by %v at %d dpi is %.3g pixels, more than %g", s.w, s.h, s.DPI, px, float64(maxPixels))
	}
	if s.FontSize < 0 || isBad(float64(s.FontSize)) {
		return s, fmt.Errorf("figure: font size must be positive, got %v", s.FontSize)
	}
	if s.FontSize == 0 {
		s.FontSize = vg.Points(10)
	}
	if s.Decades < 0 || isBad(s.Decades) {
		return s, fmt.Errorf("figure: decades must be positive, got %g", s.Decades)
	}
	if s.Decades == 0 {
		s.Decades = 10
	}
	for _, sc := range []Scale{s.XScale, s.YScale, s.ColourScale} {
		if sc != Linear && sc != Log {
			return s, fmt.Errorf("figure: unknown scale %v", sc)
		}
	}
	if s.Slice != SliceMiddle && s.Slice != SliceMean {
		return s, fmt.Errorf("figure: unknown slice position %v", s.Slice)
	}
	for _, v := range []float64{s.YMin, s.YMax, s.ColourMin, s.ColourMax} {
		if isBad(v) {
			return s, fmt.Errorf("figure: range limits must be finite, got %g", v)
		}
	}
	if s.ColourLabel == "" {
		s.ColourLabel = "density"
	}
	if s.ColourMap == nil {
		s.ColourMap = Viridis()
	}
	return s, nil
}

// maxPixels bounds the size of a PNG (about 400 MB of RGBA).
const maxPixels = 1e8

// title returns the title with the time label added.
func (s *settings) title() string {
	switch {
	case s.Time == "":
		return s.Title
	case s.Title == "":
		return s.Time
	}
	return s.Title + ", " + s.Time
}

func (s *settings) textStyle(size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, size),
		Handler: plot.DefaultTextHandler,
	}
}

func (s *settings) labelSize() vg.Length { return s.FontSize }
func (s *settings) tickSize() vg.Length  { return 0.85 * s.FontSize }
func (s *settings) titleSize() vg.Length { return 1.15 * s.FontSize }

// newPlot returns a plot styled for print: sizes from FontSize, thin
// lines, short ticks and no padding between the axes and the data (a
// frame is drawn around the data area instead).
func (s *settings) newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = s.titleSize()
	p.Title.Padding = 0.5 * s.FontSize
	p.Legend.TextStyle.Font.Size = s.tickSize()
	p.Legend.ThumbnailWidth = 2 * s.FontSize
	p.Legend.Top = true
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Padding = 0
		a.Width = frameWidth
		a.LineStyle.Color = color.Transparent // Figure.Draw frames the data area
		a.Tick.Marker = minusTicks{plot.DefaultTicks{}}
		a.Label.TextStyle.Font.Size = s.labelSize()
		a.Label.Padding = 0.25 * s.FontSize
		a.Tick.Label.Font.Size = s.tickSize()
		a.Tick.Length = 0.4 * s.FontSize
		a.Tick.Width = frameWidth
	}
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	return p
}

// frameWidth is the width of axis lines, ticks and the frame.
const frameWidth = vg.Length(0.6)

// isBad reports whether v is NaN or infinite.
func isBad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
