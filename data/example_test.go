package data_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/grid"
)

func ExampleWriter() {
	dir, err := os.MkdirTemp("", "fokker-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.h5")

	g, err := grid.New(grid.Uniform("x", -6, 6, 96), grid.Uniform("y", -6, 6, 96))
	if err != nil {
		log.Fatal(err)
	}
	w, err := data.NewWriter(path, g, data.WithHeader(data.Header{Command: "example", Convention: "ito"}))
	if err != nil {
		log.Fatal(err)
	}
	// Every dataset exists: let readers in while the run goes on.
	if err := w.StartSWMR(); err != nil {
		log.Fatal(err)
	}

	// The heat kernel from a unit Gaussian: variance 1 + 2t on each axis.
	p := make([]float64, g.Len())
	c := make([]float64, g.Dim())
	for _, t := range []float64{0, 0.5} {
		v := 1 + 2*t
		for l := range p {
			g.Centre(c, l)
			p[l] = math.Exp(-(c[0]*c[0]+c[1]*c[1])/(2*v)) / (2 * math.Pi * v)
		}
		if err := w.Append(t, p); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := data.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fmt.Println(f.Names(), f.Shape(), f.Times())
	q, err := f.Density(nil, 1)
	if err != nil {
		log.Fatal(err)
	}
	m, err := f.Moments(1)
	if err != nil {
		log.Fatal(err)
	}
	// Cell (48, 48) has its centre at (h/2, h/2), h = 1/8.
	fmt.Printf("p(h/2, h/2) at t = 0.5: %.6g\n", q[g.Index([]int{48, 48})])
	fmt.Printf("mass %.6g, var(x) %.6g, |cov(x, y)| %.3f\n", m.Mass, m.Cov[0], math.Abs(m.Cov[1]))
	// Output:
	// [x y] [96 96] [0 0.5]
	// p(h/2, h/2) at t = 0.5: 0.0794222
	// mass 0.999956, var(x) 1.99917, |cov(x, y)| 0.000
}
