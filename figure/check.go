package figure

import (
	"fmt"
	"strings"

	"github.com/fokkerplanck/fokker/grid"
)

// checkGrid panics if g is nil and returns an error unless it has dim axes
// (any number if dim is 0).
func checkGrid(fn string, g *grid.Grid, dims ...int) error {
	if g == nil {
		panic("figure: " + fn + ": nil grid")
	}
	for _, d := range dims {
		if g.Dim() == d {
			return nil
		}
	}
	want := make([]string, len(dims))
	for i, d := range dims {
		want[i] = fmt.Sprintf("%dD", d)
	}
	return fmt.Errorf("figure: %s needs a %s grid, got %dD grid %v", fn, strings.Join(want, " or "), g.Dim(), g)
}

// checkField returns an error unless z has one finite value per cell of g.
// what names the field in the message. With nonNeg, negative values are
// errors too.
func checkField(g *grid.Grid, z []float64, what string, nonNeg bool) error {
	if len(z) != g.Len() {
		return fmt.Errorf("figure: %s has %d values, grid %v has %d cells", what, len(z), g, g.Len())
	}
	for l, v := range z {
		if isBad(v) || (nonNeg && v < 0) {
			return fmt.Errorf("figure: %s is %g at cell %s", what, v, cellName(g, l))
		}
	}
	return nil
}

// cellName describes cell l of g: its linear index, multi-index and centre,
// as "17 [4 1] (x=0.53, y=-1.2)".
func cellName(g *grid.Grid, l int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", l)
	if g.Dim() > 1 {
		fmt.Fprintf(&b, " %v", g.MultiIndex(nil, l))
	}
	c := g.Centre(nil, l)
	b.WriteString(" (")
	for k, name := range g.Names() {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%.6g", name, c[k])
	}
	b.WriteString(")")
	return b.String()
}

// checkEdges returns an error unless e are at least two finite, strictly
// increasing bin edges.
func checkEdges(e []float64, what string) error {
	if len(e) < 2 {
		return fmt.Errorf("figure: %s needs at least 2 edges, got %d", what, len(e))
	}
	for i, x := range e {
		if isBad(x) {
			return fmt.Errorf("figure: %s edge %d is %g", what, i, x)
		}
		if i > 0 && !(x > e[i-1]) {
			return fmt.Errorf("figure: %s edges must increase (edge %d = %g, edge %d = %g)", what, i-1, e[i-1], i, x)
		}
	}
	return nil
}
