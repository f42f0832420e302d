package figure_test

import (
	"fmt"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/fokkerplanck/fokker/figure"
	"github.com/fokkerplanck/fokker/grid"
)

// The Ornstein–Uhlenbeck density relaxing from x = 2 to the standard
// normal, drawn at three times with the stationary density dashed.
func ExampleLine1D() {
	g, err := grid.New(grid.Uniform("x", -5, 5, 100))
	if err != nil {
		log.Fatal(err)
	}
	normal := func(x, mean, sd float64) float64 {
		return math.Exp(-0.5*(x-mean)*(x-mean)/(sd*sd)) / (sd * math.Sqrt(2*math.Pi))
	}
	times := []float64{0.1, 0.5, 2}
	var ps [][]float64
	for _, t := range times {
		p := make([]float64, g.Len())
		for i, x := range g.Centres(0) {
			p[i] = normal(x, 2*math.Exp(-t), math.Sqrt(1-math.Exp(-2*t)))
		}
		ps = append(ps, p)
	}
	stationary := make([]float64, g.Len())
	for i, x := range g.Centres(0) {
		stationary[i] = normal(x, 0, 1)
	}
	lines := append(figure.Snapshots(times, ps), figure.Line{Density: stationary, Label: "stationary", Dashed: true})

	f, err := figure.Line1D(g, lines, nil, &figure.Options{Title: "Ornstein–Uhlenbeck"})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "figure-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ou.png")
	if err := figure.Save(f, path); err != nil {
		log.Fatal(err)
	}

	r, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	cfg, err := png.DecodeConfig(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d×%d pixels\n", filepath.Base(path), cfg.Width, cfg.Height)
	// Output:
	// ou.png: 1350×960 pixels
}

// A 2D density on a grid stretched towards x = 0, with contours of the
// potential and arrows of the drift.
func ExampleHeatMap2D() {
	edges := make([]float64, 33)
	for i := range edges {
		u := -1 + 2*float64(i)/32
		edges[i] = 3 * u * math.Abs(u) // finer near 0
	}
	g, err := grid.New(grid.Stretched("x", edges), grid.Uniform("y", -3, 3, 40))
	if err != nil {
		log.Fatal(err)
	}
	p := make([]float64, g.Len())
	potential := make([]float64, g.Len())
	u := make([]float64, g.Len())
	v := make([]float64, g.Len())
	c := make([]float64, 2)
	for l := range p {
		g.Centre(c, l)
		potential[l] = (c[0]*c[0] + c[1]*c[1]) / 2
		p[l] = math.Exp(-potential[l]) / (2 * math.Pi)
		u[l], v[l] = -c[0], -c[1]
	}
	f, err := figure.HeatMap2D(g, p, &figure.Options{Title: "Stationary density", Time: figure.FormatTime(10)},
		&figure.Contours{Field: potential}, &figure.Arrows{U: u, V: v})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Plot(0, 0).X.Label.Text, f.Plot(0, 0).Y.Label.Text)
	// Output:
	// x y
}
