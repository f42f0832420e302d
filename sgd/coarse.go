package sgd

import (
	"github.com/fokkerplanck/fokker/grid"
)

// coarse maps a grid onto a coarser one made of blocks of c cells along
// each axis (the last block of an axis takes the remainder).
type coarse struct {
	fine, g *grid.Grid
	of      []int // coarse cell of every fine cell
}

func newCoarse(g *grid.Grid, c int) (*coarse, error) {
	if c <= 1 {
		of := make([]int, g.Len())
		for l := range of {
			of[l] = l
		}
		return &coarse{fine: g, g: g, of: of}, nil
	}
	d := g.Dim()
	axes := make([]grid.Axis, d)
	maps := make([][]int, d)
	for k := 0; k < d; k++ {
		a := g.Axis(k)
		n := a.Len()
		var e []float64
		maps[k] = make([]int, n)
		for i := 0; i < n; i++ {
			if i%c == 0 && (n-i >= c || i == 0) {
				e = append(e, a.Edges[i])
			}
			maps[k][i] = len(e) - 1
		}
		e = append(e, a.Edges[n])
		axes[k] = grid.Axis{Name: a.Name, Edges: e, Lower: a.Lower, Upper: a.Upper}
	}
	cg, err := grid.New(axes...)
	if err != nil {
		return nil, err
	}
	of := make([]int, g.Len())
	idx := make([]int, d)
	cidx := make([]int, d)
	for l := range of {
		g.MultiIndex(idx, l)
		for k := range idx {
			cidx[k] = maps[k][idx[k]]
		}
		of[l] = cg.Index(cidx)
	}
	return &coarse{fine: g, g: cg, of: of}, nil
}

// density returns the coarse density of the fine density p: block mass
// over block volume.
func (c *coarse) density(p []float64) []float64 {
	out := make([]float64, c.g.Len())
	for l, v := range p {
		out[c.of[l]] += v * c.fine.Volume(l)
	}
	for i := range out {
		out[i] /= c.g.Volume(i)
	}
	return out
}

// counts returns the block sums of the fine counts.
func (c *coarse) counts(n []int64) []int64 {
	out := make([]int64, c.g.Len())
	for l, v := range n {
		out[c.of[l]] += v
	}
	return out
}
