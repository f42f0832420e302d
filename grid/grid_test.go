package grid_test

import (
	"math"
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
)

func TestIndexRoundTrip(t *testing.T) {
	g, err := grid.New(grid.Uniform("x", 0, 1, 3), grid.Uniform("y", 0, 1, 4), grid.Uniform("z", 0, 1, 5), grid.Uniform("w", 0, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, 4)
	for l := 0; l < g.Len(); l++ {
		g.MultiIndex(idx, l)
		if g.Index(idx) != l {
			t.Fatalf("round trip of %d gave %d", l, g.Index(idx))
		}
	}
	// Row-major, last axis fastest.
	if got := g.Index([]int{1, 2, 3, 1}); got != ((1*4+2)*5+3)*2+1 {
		t.Errorf("Index = %d", got)
	}
	if s := g.Strides(); s[3] != 1 || s[0] != 40 {
		t.Errorf("strides %v", s)
	}
}

func TestGeometry(t *testing.T) {
	g, err := grid.New(grid.Stretched("r", []float64{0, 0.1, 0.3, 1}), grid.Uniform("s", -1, 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Centres(0); c[1] != 0.2 {
		t.Errorf("centre %v", c)
	}
	total := 0.0
	for l := 0; l < g.Len(); l++ {
		total += g.Volume(l)
	}
	if math.Abs(total-2) > 1e-15 {
		t.Errorf("total volume %v, want 2", total)
	}
	if g.Uniform() {
		t.Error("stretched grid reported uniform")
	}
	if g.String() != "r[0,1]x3 s[-1,1]x4" {
		t.Errorf("String = %q", g.String())
	}
}

// Moments of a density that is constant on [0,1]×[0,2]: mean (0.5, 1) and
// the midpoint-rule covariance of n cells, (1 − 1/n²)/12 · L².
func TestMoments(t *testing.T) {
	g, _ := grid.New(grid.Uniform("x", 0, 1, 10), grid.Uniform("y", 0, 2, 20))
	p := make([]float64, g.Len())
	for i := range p {
		p[i] = 0.5
	}
	mean, cov := make([]float64, 2), make([]float64, 4)
	m := g.Moments(p, mean, cov)
	want := []float64{(1 - 1.0/100) / 12, 0, 0, 4 * (1 - 1.0/400) / 12}
	if math.Abs(m-1) > 1e-14 || math.Abs(mean[0]-0.5) > 1e-14 || math.Abs(mean[1]-1) > 1e-14 {
		t.Errorf("mass %v mean %v", m, mean)
	}
	for i := range cov {
		if math.Abs(cov[i]-want[i]) > 1e-14 {
			t.Errorf("cov %v, want %v", cov, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		axes []grid.Axis
		want string
	}{
		{nil, "at least one axis"},
		{[]grid.Axis{grid.Stretched("x", []float64{0, 1, 1})}, "increase strictly"},
		{[]grid.Axis{grid.Stretched("x", []float64{0})}, "at least one cell"},
		{[]grid.Axis{grid.Stretched("x", []float64{0, math.NaN()})}, "NaN"},
		{[]grid.Axis{grid.Uniform("x", 0, 1, 2), grid.Uniform("x", 0, 1, 2)}, "duplicate"},
		{[]grid.Axis{grid.Uniform("", 0, 1, 2)}, "no name"},
		{[]grid.Axis{grid.Uniform("x", 0, 1, 2).WithBoundary(grid.Periodic, grid.Reflecting)}, "both sides"},
		{[]grid.Axis{grid.Uniform("x", 1, 0, 2)}, "increase strictly"},
	}
	for _, c := range cases {
		_, err := grid.New(c.axes...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("axes %v: error %v, want it to mention %q", c.axes, err, c.want)
		}
	}
}

func TestParseBoundary(t *testing.T) {
	for _, b := range []grid.Boundary{grid.Reflecting, grid.Absorbing, grid.Periodic} {
		got, err := grid.ParseBoundary(b.String())
		if err != nil || got != b {
			t.Errorf("ParseBoundary(%q) = %v, %v", b.String(), got, err)
		}
	}
	if _, err := grid.ParseBoundary("sticky"); err == nil {
		t.Error("no error for unknown kind")
	}
}
