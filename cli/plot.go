package cli

import (
	"fmt"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/figure"
)

func newPlotCmd(e *env) *cobra.Command {
	var out string
	var at float64
	var logScale bool
	c := &cobra.Command{
		Use:   "plot OUT.h5 [-o FIG.png] [--time T]",
		Short: "Draw a PNG of a result file: 1D lines, 2D heat map, 3D slice and marginals",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timeSet := cmd.Flags().Changed("time")
			return plotFile(e, args[0], out, at, timeSet, logScale)
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "PNG file (default: the input with .png)")
	c.Flags().Float64Var(&at, "time", 0, "snapshot time to draw (nearest; default: the last)")
	c.Flags().BoolVar(&logScale, "log", false, "logarithmic density scale")
	return c
}

func plotFile(e *env, path, out string, at float64, timeSet, logScale bool) error {
	if out == "" {
		out = strings.TrimSuffix(path, ".h5") + ".png"
	}
	if !strings.EqualFold(strings.TrimPrefix(out[strings.LastIndexByte(out, '.')+1:], "."), "png") {
		return badInput(fmt.Errorf("plot: output %q must end in .png", out))
	}
	f, err := data.Open(path)
	if err != nil {
		return badInput(err)
	}
	defer f.Close()
	g, err := f.Grid()
	if err != nil {
		return failed(err)
	}
	h := f.Header()
	title, _ := h.Extra["title"].(string)
	o := &figure.Options{Title: title}
	if logScale {
		o.YScale, o.ColourScale = figure.Log, figure.Log
	}
	var rho, exact []float64
	var snap = -1
	switch f.Kind() {
	case data.Steady:
		if rho, _, err = f.Stationary(nil); err != nil {
			return failed(err)
		}
		o.Time = "stationary"
		if _, v, err := f.Dataset("/exact"); err == nil && len(v) == len(rho) {
			exact = v
		}
	default:
		ts := f.Times()
		if len(ts) == 0 {
			return failed(fmt.Errorf("plot: %s has no complete snapshot", path))
		}
		snap = len(ts) - 1
		if timeSet {
			best := math.Inf(1)
			for i, t := range ts {
				if d := math.Abs(t - at); d < best {
					best, snap = d, i
				}
			}
		}
		if rho, err = f.Density(nil, snap); err != nil {
			return failed(err)
		}
		o.Time = figure.FormatTime(ts[snap])
		if shape, v, err := f.Dataset("/exact"); err == nil && len(shape) > 0 && shape[0] > snap {
			n := len(rho)
			exact = v[snap*n : (snap+1)*n]
		}
	}
	// Particle histogram of the same snapshot (written by validate), as
	// counts: density × cell volume × particles.
	var hists []figure.Histogram
	if snap >= 0 {
		if shape, v, err := f.Dataset("/particles/histogram"); err == nil && len(shape) > 0 && shape[0] > snap {
			attrs, _ := f.Attrs("/particles")
			var np float64
			switch x := attrs["particles"].(type) {
			case int64:
				np = float64(x)
			case float64:
				np = x
			}
			if np > 0 {
				n := len(rho)
				counts := make([]float64, n)
				for i := range counts {
					counts[i] = v[snap*n+i] * g.Volume(i) * np
				}
				few := n <= 120 // points with error bars; a step line for fine grids
				hists = append(hists, figure.Histogram{Edges: g.Edges(0), Counts: counts, N: np, Label: "particles", Points: few, ErrorBars: few})
			}
		}
	}
	var fig *figure.Figure
	switch g.Dim() {
	case 1:
		lines := []figure.Line{{Density: rho, Label: "fokker"}}
		if exact != nil {
			lines = append(lines, figure.Line{Density: exact, Label: "exact", Dashed: true})
		}
		if g.Dim() != 1 {
			hists = nil
		}
		fig, err = figure.Line1D(g, lines, hists, o)
	case 2:
		fig, err = figure.HeatMap2D(g, rho, o)
	case 3:
		fig, err = figure.Slices3D(g, rho, o)
	default:
		return badInput(fmt.Errorf("plot: %d-dimensional densities cannot be drawn", g.Dim()))
	}
	if err != nil {
		return failed(err)
	}
	if err := figure.Save(fig, out); err != nil {
		return badInput(err)
	}
	e.printf("wrote %s\n", out)
	return nil
}
