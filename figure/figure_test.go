package figure

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/fokkerplanck/fokker/grid"
)

// testDPI keeps the test images small; TestDefaultSize checks the default.
const testDPI = 72

func newGrid(t *testing.T, axes ...grid.Axis) *grid.Grid {
	t.Helper()
	g, err := grid.New(axes...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// gaussian returns the product of unit normal densities centred at mu on
// the cell centres of g.
func gaussian(g *grid.Grid, mu ...float64) []float64 {
	p := make([]float64, g.Len())
	c := make([]float64, g.Dim())
	for l := range p {
		g.Centre(c, l)
		v := 1.0
		for k, x := range c {
			v *= math.Exp(-0.5*(x-mu[k])*(x-mu[k])) / math.Sqrt(2*math.Pi)
		}
		p[l] = v
	}
	return p
}

// sampleCounts draws n unit normal particles (seeded) and counts them in
// the cells of the grid g; particles outside are lost.
func sampleCounts(g *grid.Grid, n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	counts := make([]float64, g.Len())
	idx := make([]int, g.Dim())
	for range n {
		inside := true
		for k := range idx {
			x := rng.NormFloat64()
			e := g.Edges(k)
			if x < e[0] || x >= e[len(e)-1] {
				inside = false
				continue
			}
			idx[k] = cellOf(e, x)
		}
		if inside {
			counts[g.Index(idx)]++
		}
	}
	return counts
}

// render saves f under t.TempDir() and returns the decoded image after
// checking that its size is f's and that it is not blank.
func render(t *testing.T, f *Figure, name string) image.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".png")
	if err := Save(f, path); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	// vgimg rounds the page to whole pixels.
	w := int(math.Round(float64(f.Width.Dots(float64(f.DPI)))))
	h := int(math.Round(float64(f.Height.Dots(float64(f.DPI)))))
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: image is %dx%d, want %dx%d", name, b.Dx(), b.Dy(), w, h)
	}
	// Text, axes and data give many colours; a blank image has one.
	if n := countColours(img); n < 20 {
		t.Errorf("%s: image has only %d colours", name, n)
	}
	return img
}

func countColours(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}

func TestLine1D(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", -5, 5, 80))
	exact := gaussian(g, 0)
	var ps [][]float64
	ts := []float64{0.1, 0.5, 1}
	for _, m := range ts {
		ps = append(ps, gaussian(g, 2*m))
	}
	snap := Snapshots(ts, ps)
	if snap[1].Label != "t = 0.5" {
		t.Errorf("snapshot label %q, want %q", snap[1].Label, "t = 0.5")
	}
	counts := sampleCounts(g, 2000, 1)
	for _, test := range []struct {
		name  string
		lines []Line
		hists []Histogram
		o     Options
	}{
		{name: "single", lines: []Line{{Density: exact}}},
		{name: "snapshots", lines: append(snap, Line{Density: exact, Label: "exact", Dashed: true}), o: Options{Title: "OU", Time: FormatTime(1)}},
		{name: "steps", lines: []Line{{Density: exact, Label: "PDE"}}, hists: []Histogram{{Edges: g.Edges(0), Counts: counts, Label: "particles", ErrorBars: true}}},
		{name: "points", lines: []Line{{Density: exact, Label: "PDE"}}, hists: []Histogram{{Edges: g.Edges(0), Counts: counts, N: 2000, Label: "particles", Points: true, ErrorBars: true}}},
		{name: "histogram only", hists: []Histogram{{Edges: []float64{-6, -1, 0, 1, 6}, Counts: []float64{1, 5, 7, 2}}}},
		{name: "log", lines: []Line{{Density: exact}}, o: Options{YScale: Log}},
		{name: "log steps", lines: []Line{{Density: exact}}, hists: []Histogram{{Edges: g.Edges(0), Counts: counts, ErrorBars: true}}, o: Options{YScale: Log}},
		{name: "fixed range", lines: []Line{{Density: exact}}, o: Options{YMin: 0.1, YMax: 0.3, XLabel: "position", YLabel: "p"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			o := test.o
			o.DPI = testDPI
			f, err := Line1D(g, test.lines, test.hists, &o)
			if err != nil {
				t.Fatal(err)
			}
			render(t, f, "line")
		})
	}
}

func TestLogLogTail(t *testing.T) {
	// Faces from 0 to 100, log-spaced after the first.
	e := []float64{0}
	for i := range 61 {
		e = append(e, math.Pow(10, -2+4*float64(i)/60))
	}
	g := newGrid(t, grid.Stretched("r", e))
	p := make([]float64, g.Len())
	for i, r := range g.Centres(0) {
		p[i] = 1 / (1 + r*r*r)
	}
	f, err := Line1D(g, []Line{{Density: p, Label: "1/(1+r³)"}}, nil, &Options{XScale: Log, YScale: Log, DPI: testDPI})
	if err != nil {
		t.Fatal(err)
	}
	render(t, f, "loglog")
	x := f.Plot(0, 0).X
	if x.Min != g.Centres(0)[0] || x.Max != 100 {
		t.Errorf("log x range [%g, %g], want [%g, 100]: the first positive centre to the last face", x.Min, x.Max, g.Centres(0)[0])
	}
	y := f.Plot(0, 0).Y
	// The density falls from 1 to about 1e-6: whole decades around it.
	if y.Min != 1e-6 || y.Max != 1 {
		t.Errorf("log y range [%g, %g], want [1e-06, 1]", y.Min, y.Max)
	}
}

func TestHeatMap2D(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", -3, 3, 40), grid.Uniform("v", -3, 3, 30))
	p := gaussian(g, 0.5, 0)
	u := make([]float64, g.Len())
	v := make([]float64, g.Len())
	landscape := make([]float64, g.Len())
	c := make([]float64, 2)
	for l := range p {
		g.Centre(c, l)
		u[l], v[l] = c[1], -c[0]-c[1]
		landscape[l] = c[0]*c[0] + c[1]*c[1]
	}
	for _, test := range []struct {
		name     string
		o        Options
		overlays []Overlay
	}{
		{name: "plain", o: Options{Title: "Kramers", Time: FormatTime(2)}},
		{name: "overlays", overlays: []Overlay{
			&Contours{Field: landscape},
			&Contours{Field: landscape, Levels: []float64{1, 4}, Colour: color.Black},
			&Arrows{U: u, V: v},
			&Arrows{U: u, V: v, Every: 5, Colour: color.Black},
			&Points{X: []float64{0, 1, 10}, Y: []float64{0, -1, 10}},
		}},
		{name: "log colour", o: Options{ColourScale: Log, ColourLabel: "p"}},
		{name: "fixed colour", o: Options{ColourMin: 0.01, ColourMax: 0.1, ColourMap: Diverging()}},
	} {
		t.Run(test.name, func(t *testing.T) {
			o := test.o
			o.DPI = testDPI
			f, err := HeatMap2D(g, p, &o, test.overlays...)
			if err != nil {
				t.Fatal(err)
			}
			render(t, f, "heat")
		})
	}
}

// TestStretchedCells checks that cells of unequal widths are drawn between
// their true edges: with faces at 0, 0.1 and 1 the first cell takes a tenth
// of the width of the heat map. (plotter.HeatMap would put the boundary
// halfway between the centres, at 0.3, and the outer edges at -0.2 and 1.)
func TestStretchedCells(t *testing.T) {
	g := newGrid(t, grid.Stretched("x", []float64{0, 0.1, 1}), grid.Uniform("y", 0, 1, 1))
	f, err := HeatMap2D(g, []float64{0, 1}, &Options{DPI: 100, Width: 6 * vg.Inch, Height: 3 * vg.Inch})
	if err != nil {
		t.Fatal(err)
	}
	img := render(t, f, "stretched")
	lut := sample(Viridis())
	low, high := lut[0], lut[len(lut)-1]
	b := img.Bounds()
	y := (b.Min.Y + b.Max.Y) / 2
	var nlow, nhigh int
	for x := b.Min.X; x < b.Max.X; x++ {
		switch color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) {
		case low:
			nlow++
		case high:
			nhigh++
		}
	}
	// The colour bar adds a few pixels of each end colour at mid height at
	// most; two pixels per boundary are blended.
	if nhigh < 100 {
		t.Fatalf("only %d pixels of the high colour in the middle row", nhigh)
	}
	if got := float64(nlow) / float64(nlow+nhigh); math.Abs(got-0.1) > 0.01 {
		t.Errorf("first cell takes %.3f of the width, want 0.1 (low %d, high %d pixels)", got, nlow, nhigh)
	}
}

func TestSlices3D(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", -3, 3, 12), grid.Uniform("y", -2, 2, 10), grid.Uniform("z", -4, 4, 9))
	p := gaussian(g, 0.5, 0, 2)
	for _, pos := range []SlicePos{SliceMiddle, SliceMean} {
		t.Run(pos.String(), func(t *testing.T) {
			f, err := Slices3D(g, p, &Options{Title: "3D", Slice: pos, DPI: testDPI})
			if err != nil {
				t.Fatal(err)
			}
			if r, c := f.Dims(); r != 2 || c != 2 {
				t.Fatalf("dims %d×%d, want 2×2", r, c)
			}
			render(t, f, "slices")
		})
	}
	// The mean along z is 2, in cell 6 of [-4, 4] by 9 (centre 2.222);
	// the middle cell is 4.
	if k := sliceCell(g, p, SliceMean); k != 6 {
		t.Errorf("mean slice at cell %d, want 6", k)
	}
	if k := sliceCell(g, p, SliceMiddle); k != 4 {
		t.Errorf("middle slice at cell %d, want 4", k)
	}
	if k := sliceCell(g, make([]float64, g.Len()), SliceMean); k != 4 {
		t.Errorf("mean slice of a zero density at cell %d, want the middle, 4", k)
	}
}

func TestCompare(t *testing.T) {
	const n = 5000
	for _, test := range []struct {
		name string
		axes []grid.Axis
	}{
		{"1D", []grid.Axis{grid.Uniform("x", -4, 4, 40)}},
		{"2D", []grid.Axis{grid.Uniform("x", -3, 3, 20), grid.Stretched("y", []float64{-3, -1, -0.5, 0, 0.25, 0.5, 1, 2, 3})}},
		{"3D", []grid.Axis{grid.Uniform("x", -3, 3, 8), grid.Uniform("y", -3, 3, 7), grid.Uniform("z", -3, 3, 6)}},
	} {
		t.Run(test.name, func(t *testing.T) {
			g := newGrid(t, test.axes...)
			mu := make([]float64, g.Dim())
			f, err := Compare(g, gaussian(g, mu...), sampleCounts(g, n, 2), n, &Options{Title: "validation", DPI: testDPI})
			if err != nil {
				t.Fatal(err)
			}
			render(t, f, "compare")
		})
	}
}

// TestCompareSharedScale checks that the PDE and particle heat maps of a 2D
// comparison share one colour scale and the difference is centred at zero.
func TestCompareSharedScale(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", 0, 1, 2), grid.Uniform("y", 0, 1, 2))
	pde := []float64{1, 2, 3, 4}                               // the cells have volume 1/4
	f, err := Compare(g, pde, []float64{0, 0, 0, 10}, 10, nil) // particles: 4 in the last cell
	if err != nil {
		t.Fatal(err)
	}
	a, b, d := f.panels[0].bar.scale, f.panels[1].bar.scale, f.panels[2].bar.scale
	if a != b {
		t.Error("PDE and particles have different colour scales")
	}
	if a.lo != 0 || a.hi != 4 {
		t.Errorf("shared range [%g, %g], want [0, 4]", a.lo, a.hi)
	}
	// The difference is -1, -2, -3, 0: symmetric range ±3.
	if d.lo != -3 || d.hi != 3 {
		t.Errorf("difference range [%g, %g], want [-3, 3]", d.lo, d.hi)
	}
}

func TestDensity(t *testing.T) {
	for _, axes := range [][]grid.Axis{
		{grid.Uniform("x", -4, 4, 30)},
		{grid.Uniform("x", -4, 4, 30), grid.Uniform("y", -4, 4, 20)},
		{grid.Uniform("x", -4, 4, 6), grid.Uniform("y", -4, 4, 5), grid.Uniform("z", -4, 4, 4)},
	} {
		g := newGrid(t, axes...)
		f, err := Density(g, gaussian(g, make([]float64, len(axes))...), &Options{DPI: testDPI})
		if err != nil {
			t.Fatalf("%dD: %v", len(axes), err)
		}
		render(t, f, "density")
	}
	g := newGrid(t, grid.Uniform("a", 0, 1, 2), grid.Uniform("b", 0, 1, 2), grid.Uniform("c", 0, 1, 2), grid.Uniform("d", 0, 1, 2))
	if _, err := Density(g, make([]float64, g.Len()), nil); err == nil || !strings.Contains(err.Error(), "4D") {
		t.Errorf("4D grid: got error %v, want one naming 4D", err)
	}
}

// TestDegenerate draws data that is easy to get wrong: all zero, a single
// cell, a huge dynamic range and a constant.
func TestDegenerate(t *testing.T) {
	one1 := newGrid(t, grid.Uniform("x", 0, 1, 1))
	one2 := newGrid(t, grid.Uniform("x", 0, 1, 1), grid.Uniform("y", 0, 1, 1))
	one3 := newGrid(t, grid.Uniform("x", 0, 1, 1), grid.Uniform("y", 0, 1, 1), grid.Uniform("z", 0, 1, 1))
	g1 := newGrid(t, grid.Uniform("x", -1, 1, 50))
	g2 := newGrid(t, grid.Uniform("x", -1, 1, 30), grid.Uniform("y", -1, 1, 20))
	huge1 := make([]float64, g1.Len())
	for i := range huge1 {
		huge1[i] = math.Pow(10, -300*math.Abs(g1.Centres(0)[i]))
	}
	huge2 := make([]float64, g2.Len())
	for l := range huge2 {
		huge2[l] = math.Pow(10, -300*float64(l)/float64(len(huge2)))
	}
	for _, test := range []struct {
		name string
		g    *grid.Grid
		p    []float64
		o    Options
	}{
		{"zero 1D", g1, make([]float64, g1.Len()), Options{}},
		{"zero 1D log", g1, make([]float64, g1.Len()), Options{YScale: Log}},
		{"zero 2D", g2, make([]float64, g2.Len()), Options{}},
		{"zero 2D log", g2, make([]float64, g2.Len()), Options{ColourScale: Log}},
		{"one cell 1D", one1, []float64{1}, Options{}},
		{"one cell 2D", one2, []float64{1}, Options{}},
		{"one cell 3D", one3, []float64{1}, Options{}},
		{"huge range 1D", g1, huge1, Options{}},
		{"huge range 1D log", g1, huge1, Options{YScale: Log}},
		{"huge range 2D", g2, huge2, Options{}},
		{"huge range 2D log", g2, huge2, Options{ColourScale: Log, Decades: 400}},
		{"constant", g2, constant(g2.Len(), 0.25), Options{}},
		{"negative constant", g2, constant(g2.Len(), -1), Options{}},
		{"negative 1D", g1, constant(g1.Len(), -1e-3), Options{}},
	} {
		t.Run(test.name, func(t *testing.T) {
			o := test.o
			o.DPI = testDPI
			f, err := Density(test.g, test.p, &o)
			if err != nil {
				t.Fatal(err)
			}
			// A single cell or a constant gives few colours: only decode.
			var buf bytes.Buffer
			if _, err := f.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(&buf); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func constant(n int, v float64) []float64 {
	p := make([]float64, n)
	for i := range p {
		p[i] = v
	}
	return p
}

func TestErrors(t *testing.T) {
	g1 := newGrid(t, grid.Uniform("x", 0, 1, 4))
	g2 := newGrid(t, grid.Uniform("x", 0, 1, 4), grid.Uniform("y", 0, 1, 3))
	g3 := newGrid(t, grid.Uniform("x", 0, 1, 2), grid.Uniform("y", 0, 1, 2), grid.Uniform("z", 0, 1, 2))
	nan2 := make([]float64, g2.Len())
	nan2[7] = math.NaN()
	ok1 := []float64{1, 1, 1, 1}
	ok2 := make([]float64, g2.Len())
	for _, test := range []struct {
		name string
		err  func() error
		want string // part of the message
	}{
		{"1D on 2D grid", func() error { _, err := Line1D(g2, []Line{{Density: ok2}}, nil, nil); return err }, "needs a 1D grid, got 2D"},
		{"2D on 1D grid", func() error { _, err := HeatMap2D(g1, ok1, nil); return err }, "needs a 2D grid"},
		{"3D on 2D grid", func() error { _, err := Slices3D(g2, ok2, nil); return err }, "needs a 3D grid"},
		{"short density", func() error { _, err := HeatMap2D(g2, ok1, nil); return err }, "density has 4 values, grid x[0,1]x4 y[0,1]x3 has 12 cells"},
		{"NaN", func() error { _, err := HeatMap2D(g2, nan2, nil); return err }, "density is NaN at cell 7 [2 1] (x=0.625, y=0.5)"},
		{"Inf line", func() error {
			_, err := Line1D(g1, []Line{{Density: []float64{1, math.Inf(1), 1, 1}, Label: "PDE"}}, nil, nil)
			return err
		}, `line 0 ("PDE") is +Inf at cell 1 (x=0.375)`},
		{"NaN 3D", func() error { p := make([]float64, 8); p[5] = math.NaN(); _, err := Slices3D(g3, p, nil); return err }, "cell 5 [1 0 1]"},
		{"nothing", func() error { _, err := Line1D(g1, nil, nil, nil); return err }, "nothing to draw"},
		{"histogram edges", func() error {
			_, err := Line1D(g1, nil, []Histogram{{Edges: []float64{0, 1, 1}, Counts: []float64{1, 2}}}, nil)
			return err
		}, "edges must increase"},
		{"histogram counts", func() error {
			_, err := Line1D(g1, nil, []Histogram{{Edges: []float64{0, 1, 2}, Counts: []float64{1}}}, nil)
			return err
		}, "1 counts for 3 edges"},
		{"negative count", func() error {
			_, err := Line1D(g1, nil, []Histogram{{Edges: []float64{0, 1, 2}, Counts: []float64{1, -1}}}, nil)
			return err
		}, "count 1 is -1"},
		{"negative particles", func() error { _, err := Compare(g1, ok1, []float64{1, -2, 0, 0}, 0, nil); return err }, "particle counts is -2 at cell 1"},
		{"particle number", func() error { _, err := Compare(g1, ok1, ok1, math.NaN(), nil); return err }, "number of particles is NaN"},
		{"log x without positive", func() error {
			g := newGrid(t, grid.Uniform("x", -2, -1, 3))
			_, err := Line1D(g, []Line{{Density: []float64{1, 2, 3}}}, nil, &Options{XScale: Log})
			return err
		}, "log x scale needs positive positions"},
		{"log y range", func() error {
			_, err := Line1D(g1, []Line{{Density: ok1}}, nil, &Options{YScale: Log, YMin: -1})
			return err
		}, "positive range"},
		{"empty y range", func() error {
			_, err := Line1D(g1, []Line{{Density: ok1}}, nil, &Options{YMin: 2, YMax: 1})
			return err
		}, "range [2, 1] is empty"},
		{"empty colour range", func() error { _, err := HeatMap2D(g2, ok2, &Options{ColourMin: 5}); return err }, "colour range [5, 1] is empty"},
		{"log colour range", func() error { _, err := HeatMap2D(g2, ok2, &Options{ColourScale: Log, ColourMin: -1}); return err }, "positive range"},
		{"size", func() error { _, err := HeatMap2D(g2, ok2, &Options{Width: -1, Height: 2}); return err }, "size must be positive"},
		{"too big", func() error {
			_, err := HeatMap2D(g2, ok2, &Options{Width: 100 * vg.Inch, Height: 100 * vg.Inch, DPI: 1000})
			return err
		}, "pixels"},
		{"DPI", func() error { _, err := HeatMap2D(g2, ok2, &Options{DPI: -3}); return err }, "DPI"},
		{"scale", func() error { _, err := HeatMap2D(g2, ok2, &Options{ColourScale: 7}); return err }, "unknown scale Scale(7)"},
		{"contour field", func() error { _, err := HeatMap2D(g2, ok2, nil, &Contours{Field: ok1}); return err }, "contour field has 4 values"},
		{"contour level", func() error {
			_, err := HeatMap2D(g2, ok2, nil, &Contours{Field: ok2, Levels: []float64{math.Inf(-1)}})
			return err
		}, "contour level 0 is -Inf"},
		{"arrows", func() error {
			u := append([]float64(nil), ok2...)
			u[3] = math.NaN()
			_, err := HeatMap2D(g2, ok2, nil, &Arrows{U: u, V: ok2})
			return err
		}, "arrow component U is NaN at cell 3"},
		{"arrow stride", func() error { _, err := HeatMap2D(g2, ok2, nil, &Arrows{U: ok2, V: ok2, Every: -1}); return err }, "stride"},
		{"points", func() error { _, err := HeatMap2D(g2, ok2, nil, &Points{X: []float64{1}, Y: nil}); return err }, "1 x and 0 y"},
		{"quiver", func() error {
			_, err := NewQuiver([]float64{0}, []float64{0}, []float64{math.NaN()}, []float64{0})
			return err
		}, "quiver arrow 0"},
	} {
		t.Run(test.name, func(t *testing.T) {
			err := test.err()
			if err == nil {
				t.Fatalf("no error, want one containing %q", test.want)
			}
			if !strings.HasPrefix(err.Error(), "figure: ") || !strings.Contains(err.Error(), test.want) {
				t.Errorf("error %q, want one starting %q and containing %q", err, "figure: ", test.want)
			}
		})
	}
}

func TestPanics(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", 0, 1, 3))
	for _, test := range []struct {
		name string
		fn   func()
	}{
		{"nil grid", func() { _, _ = Line1D(nil, nil, nil, nil) }},
		{"snapshots", func() { Snapshots([]float64{1}, nil) }},
		{"marginal axis", func() { Marginal(nil, g, []float64{1, 2, 3}, 1) }},
		{"marginal length", func() { Marginal(nil, g, []float64{1, 2}, 0) }},
		{"GridXYZ 1D", func() { GridXYZ(g, []float64{1, 2, 3}) }},
		{"plot index", func() {
			f, _ := Density(g, []float64{1, 2, 3}, nil)
			f.Plot(1, 0)
		}},
	} {
		t.Run(test.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "figure: ") {
					t.Errorf("panic %v, want a string starting \"figure: \"", r)
				}
			}()
			test.fn()
		})
	}
}

func TestSave(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", 0, 1, 3))
	f, err := Density(g, []float64{1, 2, 3}, &Options{DPI: testDPI})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(f, path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Error("Save did not replace the old file with a PNG")
	}

	// Failures name the path and leave no temporary file behind.
	for _, test := range []struct {
		name, path, want string
		f                *Figure
	}{
		{"extension", filepath.Join(dir, "out.jpg"), "only PNG", f},
		{"missing dir", filepath.Join(dir, "no", "such", "out.png"), "no such file", f},
		{"bad figure", filepath.Join(dir, "bad.png"), "cannot draw", &Figure{}},
	} {
		err := Save(test.f, test.path)
		if err == nil || !strings.Contains(err.Error(), test.path) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: error %v, want one naming %s and containing %q", test.name, err, test.path, test.want)
		}
		if _, err := os.Stat(test.path); err == nil {
			t.Errorf("%s: %s exists after a failed save", test.name, test.path)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only out.png", names)
	}
}

// TestDefaultSize checks the default page size and resolution.
func TestDefaultSize(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", -2, 2, 20))
	f, err := Line1D(g, []Line{{Density: gaussian(g, 0)}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := render(t, f, "default")
	if b := img.Bounds(); b.Dx() != 1350 || b.Dy() != 960 {
		t.Errorf("default 1D figure is %dx%d pixels, want 1350x960 (4.5 by 3.2 inches at 300 dpi)", b.Dx(), b.Dy())
	}
}

func TestMarginal(t *testing.T) {
	g := newGrid(t,
		grid.Stretched("x", []float64{0, 1, 3}),
		grid.Stretched("y", []float64{0, 0.5, 2, 2.5}),
		grid.Uniform("z", 0, 4, 2))
	rng := rand.New(rand.NewPCG(3, 4))
	p := make([]float64, g.Len())
	var mass float64
	for l := range p {
		p[l] = rng.Float64()
		mass += p[l] * g.Volume(l)
	}
	idx := make([]int, 3)
	for k := range 3 {
		m := Marginal(nil, g, p, k)
		// Direct sum over the other axes of p times their widths.
		for i := range m {
			var want float64
			for l := range p {
				g.MultiIndex(idx, l)
				if idx[k] == i {
					want += p[l] * g.Volume(l) / g.Widths(k)[i]
				}
			}
			if math.Abs(m[i]-want) > 1e-14*want {
				t.Errorf("axis %d cell %d: marginal %v, want %v", k, i, m[i], want)
			}
		}
		var mm float64
		for i, v := range m {
			mm += v * g.Widths(k)[i]
		}
		// Mass is kept to rounding: a few ulps of the sum.
		if math.Abs(mm-mass) > 1e-13*mass {
			t.Errorf("axis %d: marginal mass %v, want %v", k, mm, mass)
		}
	}
}

func TestLogTicks(t *testing.T) {
	for _, test := range []struct {
		min, max float64
		labels   []string
	}{
		{0.001, 1, []string{"0.001", "0.01", "0.1", "1"}},
		{1e-12, 1, []string{"10^−12", "10^−10", "10^−8", "10^−6", "10^−4", "0.01", "1"}},
		{3e-13, 20, []string{"10^−12", "10^−9", "10^−6", "0.001", "1"}},
		{2, 5000, []string{"10", "100", "1000"}},
		{1e5, 1e7, []string{"10^5", "10^6", "10^7"}},
		{1e-300, 1, []string{"10^−300", "10^−250", "10^−200", "10^−150", "10^−100", "10^−50", "1"}},
	} {
		var got []string
		for _, tk := range (logTicks{}).Ticks(test.min, test.max) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(test.labels, " ") {
			t.Errorf("[%g, %g]: labels %q, want %q", test.min, test.max, got, test.labels)
		}
	}
	// Within one decade: linear ticks.
	if ticks := (logTicks{}).Ticks(2, 5); len(ticks) == 0 {
		t.Error("no ticks for [2, 5]")
	}
}

func TestAutoRange(t *testing.T) {
	for _, test := range []struct {
		name    string
		log     bool
		data    []float64
		lo, hi  float64
		decades float64
	}{
		{"from zero", false, []float64{0.2, 0.5}, 0, 0.5, 10},
		{"negative", false, []float64{-0.2, 0.5}, -0.2, 0.5, 10},
		{"zero", false, []float64{0, 0}, 0, 1, 10},
		{"empty", false, nil, 0, 1, 10},
		{"negative constant", false, []float64{-1, -1}, -2, 0, 10},
		{"log", true, []float64{0, 1e-3, 0.5}, 1e-3, 0.5, 10},
		{"log decades", true, []float64{1e-300, 1}, 1e-10, 1, 10},
		{"log none", true, []float64{0, -1}, 0.1, 1, 10},
		{"log constant", true, []float64{2, 2}, 0.2, 20, 10},
		{"skips NaN", false, []float64{math.NaN(), 1}, 0, 1, 10},
	} {
		lo, hi := autoRange(test.log, test.decades, test.data)
		if math.Abs(lo-test.lo) > 1e-15*math.Abs(test.lo) || math.Abs(hi-test.hi) > 1e-15*math.Abs(test.hi) {
			t.Errorf("%s: range [%g, %g], want [%g, %g]", test.name, lo, hi, test.lo, test.hi)
		}
	}
}

func TestViridis(t *testing.T) {
	m := Viridis()
	// Ends and middle of matplotlib's table (entries 0, 128 and 255).
	for _, test := range []struct {
		v    float64
		want color.NRGBA
	}{
		{0, color.NRGBA{R: 68, G: 1, B: 84, A: 255}},
		{128.0 / 255, color.NRGBA{R: 33, G: 145, B: 140, A: 255}},
		{1, color.NRGBA{R: 253, G: 231, B: 37, A: 255}},
	} {
		c, err := m.At(test.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := color.NRGBAModel.Convert(c).(color.NRGBA); got != test.want {
			t.Errorf("viridis(%g) = %v, want %v", test.v, got, test.want)
		}
	}
	if _, err := m.At(1.5); err == nil {
		t.Error("no error for a value out of range")
	}
	if n := len(m.Palette(5).Colors()); n != 5 {
		t.Errorf("palette of %d colours, want 5", n)
	}
}

func TestSegmentHits(t *testing.T) {
	r := vg.Rectangle{Min: vg.Point{X: 0, Y: 0}, Max: vg.Point{X: 1, Y: 1}}
	for _, test := range []struct {
		a, b vg.Point
		want bool
	}{
		{vg.Point{X: -1, Y: 0.5}, vg.Point{X: 2, Y: 0.5}, true},
		{vg.Point{X: 0.5, Y: 0.5}, vg.Point{X: 0.5, Y: 0.5}, true},
		{vg.Point{X: -1, Y: -1}, vg.Point{X: -0.5, Y: 2}, false},
		{vg.Point{X: -1, Y: 1.5}, vg.Point{X: 1.5, Y: -1}, true},
		{vg.Point{X: 2, Y: 2}, vg.Point{X: 3, Y: 3}, false},
	} {
		if got := segmentHits(test.a, test.b, r); got != test.want {
			t.Errorf("segment %v–%v: hits %v, want %v", test.a, test.b, got, test.want)
		}
	}
}

// TestLegendAvoidsData checks that a legend moves off the data: a density
// rising to the right puts it top left.
func TestLegendAvoidsData(t *testing.T) {
	g := newGrid(t, grid.Uniform("x", 0, 1, 20))
	p := make([]float64, g.Len())
	for i, x := range g.Centres(0) {
		p[i] = x * x
	}
	f, err := Line1D(g, []Line{{Density: p, Label: "x²"}}, nil, &Options{DPI: testDPI})
	if err != nil {
		t.Fatal(err)
	}
	render(t, f, "legend")
	if !f.Plot(0, 0).Legend.Left {
		t.Error("legend over a rising density is on the right")
	}
}
