package cli

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/operators"
	"github.com/fokkerplanck/fokker/problem"
	"github.com/fokkerplanck/fokker/solvers"
	"github.com/fokkerplanck/fokker/spec"
)

// runResume continues the transient run in the file at path from its last
// complete snapshot: `fokker run --resume OUT.h5`.
//
// Everything comes from the file: the spec (root attribute spec), the
// density of the last complete snapshot and the stepper's history at that
// snapshot (/checkpoint). The run then takes the steps an uninterrupted run
// takes (see transient.run), so that the file ends up with the same
// snapshots to the bit. A file without a checkpoint (written by an older
// fokker) is continued with a fresh start of the time stepper, which agrees
// with an uninterrupted run to the accuracy of the time discretisation; a
// note on stderr says so.
//
// Refused with exit status 2, before the file is touched: a file that is
// not a fokker-density transient file or is damaged, one a running fokker
// is writing, a run that is complete, a spec that no longer parses or
// builds, and a file whose grid or times are not those of its spec.
func runResume(e *env, path string, rf runFlags) error {
	start := time.Now()
	f, err := data.Open(path)
	if err != nil {
		return badInput(err)
	}
	st, err := readResume(e, f)
	f.Close()
	if err != nil {
		return err
	}
	r, err := newTransient(e, st.s, st.p, st.op, rf)
	if err != nil {
		return err
	}
	r.out = path
	r.hist = st.hist
	r.resumed = st.n
	w, err := data.Reopen(path)
	if err != nil {
		return badInput(err)
	}
	if w.Len() != st.n {
		w.Close()
		return failed(fmt.Errorf("%s: had %d complete snapshots when read, %d when reopened: is another process writing it?", path, st.n, w.Len()))
	}
	if r.exact != nil {
		if r.exactSeries, err = w.Series("/exact"); err != nil {
			w.Close()
			return badInput(fmt.Errorf("cannot resume %s: its spec has [exact] but the file has no /exact: %w", path, err))
		}
	}
	r.w = w
	return r.run(st.rho, st.t, st.n, start)
}

// resumePoint is where a resumed run starts.
type resumePoint struct {
	s    *spec.Spec
	p    *problem.Problem
	op   *operators.Operator
	n    int       // complete snapshots in the file
	t    float64   // time of rho
	rho  []float64 // density of the last complete snapshot (or the initial one)
	hist solvers.History
}

// readResume reads and checks what a resumed run needs from f.
func readResume(e *env, f *data.File) (*resumePoint, error) {
	path := f.Path()
	refuse := func(format string, a ...any) error {
		return badInput(fmt.Errorf("cannot resume %s: %s", path, fmt.Sprintf(format, a...)))
	}
	switch f.State() {
	case data.Writing:
		return nil, refuse("a running process is writing it")
	case data.OpenForWrite:
		fmt.Fprintf(e.stderr, "fokker: %s is marked open for writing and this system cannot tell whether its writer is alive: make sure no other fokker writes it\n", path)
	}
	if f.Kind() != data.Transient {
		return nil, refuse("it holds a stationary density (fokker steady), not a transient run")
	}
	if f.Spec() == "" {
		return nil, refuse("it has no spec (root attribute spec)")
	}
	where := path + "[spec]"
	s, err := spec.Parse([]byte(f.Spec()), where)
	if err != nil {
		return nil, refuse("the spec stored in it does not parse: %v", err)
	}
	p, err := problem.Build(s, availableMemory())
	if err != nil {
		return nil, refuse("the spec stored in it is not valid: %v", err)
	}
	if s.Time == nil {
		return nil, refuse("the spec stored in it has no [time] table")
	}
	op, err := p.NewOperator()
	if err != nil {
		return nil, refuse("the spec stored in it is not valid: %v", err)
	}
	g := p.Grid
	if !slices.Equal(f.Shape(), g.Shape()) {
		return nil, refuse("its grid has %v cells, its spec %v", f.Shape(), g.Shape())
	}
	for k := range g.Shape() {
		if !slices.Equal(f.Edges(k), g.Edges(k)) {
			return nil, refuse("the faces of axis %s differ from those of its spec", g.Names()[k])
		}
	}
	times := p.Times
	ft := f.Times()
	n := len(ft)
	if n > len(times) {
		return nil, refuse("it has %d snapshots, its spec %d", n, len(times))
	}
	for i, t := range ft {
		if t != times[i] {
			return nil, refuse("snapshot %d is at t=%v, its spec puts it at t=%v", i, t, times[i])
		}
	}
	if n == len(times) {
		return nil, refuse("the run is complete: all %d snapshots, up to t=%g, are in the file", n, times[n-1])
	}
	rp := &resumePoint{s: s, p: p, op: op, n: n, rho: make([]float64, g.Len())}
	if n == 0 {
		// Killed before its first snapshot: start from the beginning.
		if err := p.InitialDensity(rp.rho); err != nil {
			return nil, refuse("%v", err)
		}
		rp.t = p.Start
		return rp, nil
	}
	if rp.rho, err = f.Density(rp.rho, n-1); err != nil {
		return nil, badInput(err)
	}
	for i, v := range rp.rho {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, refuse("snapshot %d is %v at cell %d", n-1, v, i)
		}
	}
	rp.t = ft[n-1]
	c, err := f.Checkpoint()
	switch {
	case err == nil:
		rp.hist = solvers.History{Steps: c.Steps, N: c.N, Past: c.Past, PastDt: c.PastDt, Dt: c.Dt}
	case errors.Is(err, data.ErrNoCheckpoint):
		fmt.Fprintf(e.stderr, "fokker: %v; the time stepper starts afresh at t=%g, so the snapshots to come agree with an uninterrupted run only to the accuracy of the time discretisation\n", err, rp.t)
	default:
		return nil, badInput(err)
	}
	return rp, nil
}
