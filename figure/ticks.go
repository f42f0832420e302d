package figure

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// logTicks is a plot.Ticker for log axes. It labels about six whole
// decades, at multiples of a round step so that 1 is labelled when in
// range, with minor ticks between them, and at 2…9 times each decade when
// the range is short. A range within one decade gets plot.DefaultTicks
// instead. Its labels, such as "10^−5", must be drawn with powers.
type logTicks struct{}

var _ plot.Ticker = logTicks{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return nil
	}
	// Small tolerances keep a decade at the very end of the range.
	first := int(math.Ceil(math.Log10(min) - 1e-9))
	last := int(math.Floor(math.Log10(max) + 1e-9))
	if last < first {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	// Label about six decades, at multiples of a round step, with minor
	// ticks at a fifth or a quarter of it.
	n := last - first + 1
	step, minor := logSteps[len(logSteps)-1][0], logSteps[len(logSteps)-1][1]
	for _, s := range logSteps {
		if 6*s[0] >= n-1 { // at most seven labels
			step, minor = s[0], s[1]
			break
		}
	}
	var ticks []plot.Tick
	for d := first - 1; d <= last; d++ {
		v := math.Pow(10, float64(d))
		switch {
		case d < first:
		case mod(d, step) == 0:
			ticks = append(ticks, plot.Tick{Value: v, Label: powerOfTen(d)})
		case mod(d, minor) == 0:
			ticks = append(ticks, plot.Tick{Value: v})
		}
		if n <= 4 {
			for k := 2; k < 10; k++ {
				if u := float64(k) * v; u >= min && u <= max {
					ticks = append(ticks, plot.Tick{Value: u})
				}
			}
		}
	}
	return ticks
}

// logSteps are the steps between labelled decades, each with the step
// between minor ticks; they cover the 632 decades of float64.
var logSteps = [...][2]int{{1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {10, 2}, {20, 5}, {25, 5}, {50, 10}, {100, 20}, {200, 50}}

// mod returns a modulo b in [0, b).
func mod(a, b int) int { return ((a % b) + b) % b }

// powerOfTen returns the label of 10^d: plain numbers from 0.001 to 1000,
// "10^−5" beyond, for the powers text handler.
func powerOfTen(d int) string {
	if d >= -3 && d <= 3 {
		return strconv.FormatFloat(math.Pow(10, float64(d)), 'f', -1, 64)
	}
	return "10^" + minus(strconv.Itoa(d))
}

// minus replaces a leading hyphen by the minus sign, U+2212.
func minus(s string) string {
	if strings.HasPrefix(s, "-") {
		return "−" + s[1:]
	}
	return s
}

// minusTicks gives the labels of a plot.Ticker proper minus signs.
type minusTicks struct{ plot.Ticker }

func (m minusTicks) Ticks(min, max float64) []plot.Tick {
	ticks := m.Ticker.Ticks(min, max)
	for i := range ticks {
		ticks[i].Label = minus(ticks[i].Label)
	}
	return ticks
}

// linearTicks returns plot.DefaultTicks within [min, max], with minus
// signs.
func linearTicks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (minusTicks{plot.DefaultTicks{}}).Ticks(min, max) {
		if t.Value >= min-1e-9*(max-min) && t.Value <= max+1e-9*(max-min) {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// powers is a text.Handler for single-line labels like "10^−5": it draws
// the part after '^' raised and smaller. Other text, and rotated text, is
// drawn as by plot.DefaultTextHandler.
type powers struct{ text.Plain }

var _ text.Handler = powers{}

// expScale and expRaise are the size of an exponent and the height of its
// baseline, relative to the font size.
const (
	expScale = 0.7
	expRaise = 0.42
)

func newPowers() powers {
	return powers{text.Plain{Fonts: font.DefaultCache}}
}

func (h powers) split(txt string, fnt font.Font) (base, exp string, small font.Font, ok bool) {
	base, exp, ok = strings.Cut(txt, "^")
	if !ok || strings.Contains(txt, "\n") {
		return "", "", fnt, false
	}
	small = fnt
	small.Size = expScale * fnt.Size
	return base, exp, small, true
}

// Box implements text.Handler.
func (h powers) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	base, exp, small, ok := h.split(txt, fnt)
	if !ok {
		return h.Plain.Box(txt, fnt)
	}
	bw, bh, bd := h.Plain.Box(base, fnt)
	ew, eh, _ := h.Plain.Box(exp, small)
	return bw + ew, max(bh, expRaise*fnt.Size+eh), bd
}

// Draw implements text.Handler.
func (h powers) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	base, exp, small, ok := h.split(txt, sty.Font)
	if !ok || sty.Rotation != 0 {
		h.Plain.Draw(c, txt, sty, pt)
		return
	}
	face := h.Fonts.Lookup(sty.Font, sty.Font.Size)
	sface := h.Fonts.Lookup(small, small.Size)
	w, ht, _ := h.Box(txt, sty.Font)
	// As text.Plain places a single line.
	x := pt.X + vg.Length(sty.XAlign)*w
	y := pt.Y + (ht+face.Extents().Descent)*vg.Length(sty.YAlign) - face.Extents().Ascent + sty.Font.Size
	c.SetColor(sty.Color)
	c.FillString(face, vg.Point{X: x, Y: y}, base)
	c.FillString(sface, vg.Point{X: x + face.Width(base), Y: y + expRaise*sty.Font.Size}, exp)
}
