package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/data"
)

func newInspectCmd(e *env) *cobra.Command {
	var showSpec bool
	var all bool
	c := &cobra.Command{
		Use:   "inspect OUT.h5",
		Short: "Summarise a result file: grid, times, moments, spec, provenance",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := data.Open(args[0])
			if err != nil {
				return badInput(err)
			}
			state := ""
			switch f.State() {
			case data.Crashed:
				// Its writer was killed: clear the marks so that every HDF5
				// reader opens it again (complete snapshots are intact).
				f.Close()
				if err := data.Recover(args[0]); err != nil {
					return failed(err)
				}
				if f, err = data.Open(args[0]); err != nil {
					return badInput(err)
				}
				state = "recovered (its writer was killed; the complete snapshots are intact, and every HDF5 reader opens it again)"
			case data.Writing:
				state = "being written (a run is appending to it: the snapshots so far are shown)"
			case data.OpenForWrite:
				state = "marked open for writing (its writer may be alive)"
			}
			defer f.Close()
			if state != "" {
				fmt.Fprintf(e.stdout, "state       %s\n", state)
			}
			return inspect(e.stdout, f, showSpec, all)
		},
	}
	c.Flags().BoolVar(&showSpec, "spec", true, "print the spec stored in the file")
	c.Flags().BoolVar(&all, "all", false, "list every snapshot (default: at most 12, evenly spread)")
	return c
}

func inspect(w io.Writer, f *data.File, showSpec, all bool) error {
	h := f.Header()
	fmt.Fprintf(w, "file        %s (%s, format_version %d, %s)\n", f.Path(), data.Format, f.FormatVersion(), f.Kind())
	if t, ok := h.Extra["title"].(string); ok && t != "" {
		fmt.Fprintf(w, "title       %s\n", t)
	}
	fmt.Fprintf(w, "created     %s by fokker %s\n", h.Created.Format("2006-01-02 15:04:05 MST"), h.FokkerVersion)
	fmt.Fprintf(w, "command     %s\n", h.Command)
	fmt.Fprintf(w, "convention  %s\n", h.Convention)
	fmt.Fprintf(w, "scheme      %s\n", h.Scheme)
	g, err := f.Grid()
	if err != nil {
		return failed(err)
	}
	fmt.Fprintf(w, "grid        %d cells\n", g.Len())
	for k, name := range g.Names() {
		lo, hi := g.Bounds(k)
		kind := "uniform"
		wd := g.Widths(k)
		for _, x := range wd {
			if x != wd[0] && (x-wd[0]) > 1e-12*wd[0] || (wd[0]-x) > 1e-12*wd[0] {
				kind = "stretched"
				break
			}
		}
		fmt.Fprintf(w, "  %-9s %6d cells on [%g, %g], %s, %s/%s\n", name, len(wd), g.Lower(k), g.Upper(k), kind, lo, hi)
	}
	d := g.Dim()
	switch f.Kind() {
	case data.Transient:
		ts := f.Times()
		fmt.Fprintf(w, "snapshots   %d", len(ts))
		if len(ts) > 0 {
			fmt.Fprintf(w, ", t = %g … %g", ts[0], ts[len(ts)-1])
		}
		fmt.Fprintln(w)
		if len(ts) > 0 {
			idx := spread(len(ts), 12)
			if all {
				idx = spread(len(ts), len(ts))
			}
			fmt.Fprintf(w, "  %-10s %-14s %-*s %s\n", "time", "mass", 12*d+2, "mean", "covariance")
			for _, i := range idx {
				m, err := f.Moments(i)
				if err != nil {
					return failed(err)
				}
				fmt.Fprintf(w, "  %-10.4g %-14.10f %-*s %s\n", ts[i], m.Mass, 12*d+2, fmtVec(m.Mean), fmtMat(m.Cov, d))
			}
			if len(idx) < len(ts) {
				fmt.Fprintf(w, "  (%d of %d snapshots shown; --all lists every one)\n", len(idx), len(ts))
			}
		}
	case data.Steady:
		_, res, err := f.Stationary(nil)
		if err != nil {
			return failed(err)
		}
		m, err := f.StationaryMoments()
		if err != nil {
			return failed(err)
		}
		fmt.Fprintf(w, "stationary  mass %.10f, mean %s, covariance %s, residual %.2e\n", m.Mass, fmtVec(m.Mean), fmtMat(m.Cov, d), res)
	}
	if ds, err := f.Datasets(); err == nil {
		var extra []string
		for _, di := range ds {
			if strings.HasPrefix(di.Path, "/exact") || strings.HasPrefix(di.Path, "/particles") || strings.HasPrefix(di.Path, "/sgd") {
				extra = append(extra, fmt.Sprintf("%s %v", di.Path, di.Shape))
			}
		}
		if len(extra) > 0 {
			fmt.Fprintf(w, "also        %s\n", strings.Join(extra, ", "))
		}
	}
	if showSpec && h.Spec != "" {
		fmt.Fprintln(w, "spec")
		for _, l := range strings.Split(strings.TrimRight(h.Spec, "\n"), "\n") {
			fmt.Fprintf(w, "  | %s\n", l)
		}
	}
	return nil
}

// spread returns up to k indices evenly spread over 0..n-1, including both
// ends.
func spread(n, k int) []int {
	if n <= k {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, k)
	for j := 0; j < k; j++ {
		i := int(float64(j)*float64(n-1)/float64(k-1) + 0.5)
		if len(out) == 0 || out[len(out)-1] != i {
			out = append(out, i)
		}
	}
	return out
}
