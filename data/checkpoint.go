package data

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Checkpoint is what a time stepper needs, besides the density of a
// snapshot, to continue a run from that snapshot exactly as if it had not
// stopped: the past densities of its multistep formula and error estimate,
// and its step. A transient file written with NewCheckpoint keeps the
// checkpoint of its last complete snapshot in /checkpoint (see
// docs/format.md).
type Checkpoint struct {
	// Time is the time of the snapshot.
	Time float64
	// Steps is the number of time steps taken from the start of the run to
	// the snapshot.
	Steps int
	// Dt is the step the stepper tries next (0: its default).
	Dt float64
	// N is the number of past densities held: 0, 1 or 2.
	N int
	// Past[k] is the density k+1 accepted steps before the snapshot, on the
	// grid like a snapshot; only the first N are meaningful. PastDt[k] is
	// the length of the step that led from Past[k] to the state after it.
	Past   [2][]float64
	PastDt [2]float64
}

// ErrNoCheckpoint is returned (wrapped) by File.Checkpoint when the file
// holds no checkpoint for its last complete snapshot.
var ErrNoCheckpoint = errors.New("no checkpoint")

const (
	pathCheckpoint      = "/checkpoint"
	pathCheckpointPast  = "/checkpoint/past"
	pathCheckpointState = "/checkpoint/state"
)

// checkpointColumns name the columns of /checkpoint/state.
var checkpointColumns = []string{"snapshot", "time", "steps", "dt", "n_past", "past_dt_1", "past_dt_2"}

// checkpointSets are the open datasets of /checkpoint.
type checkpointSets struct {
	past, state hid
	row         []float64 // a state row
}

// NewCheckpoint creates /checkpoint, where SetCheckpoint keeps the
// checkpoint of the last complete snapshot: two slots, used by even and
// odd snapshots in turn, of two past densities each, stored uncompressed so
// that rewriting them never moves data in the file. Call it before
// StartSWMR; the file must be Transient.
func (w *Writer) NewCheckpoint() error {
	if err := w.creatable("NewCheckpoint"); err != nil {
		return err
	}
	if w.kind != Transient {
		return w.errorf("NewCheckpoint: the file is steady")
	}
	if w.ckpt != nil {
		return w.errorf("NewCheckpoint called twice")
	}
	shape := w.g.Shape()
	past, err := dsCreate(w.file, pathCheckpointPast, append([]int{4}, shape...), nil, gridChunk(1, shape), 0, false, true)
	if err != nil {
		return w.errorf("create %s: %v", pathCheckpointPast, err)
	}
	c := &checkpointSets{past: past, state: -1, row: make([]float64, len(checkpointColumns))}
	w.ckpt = c // closed by Close from now on
	// Write every chunk now (NaN), so that later writes overwrite data in
	// place and never allocate.
	nan := make([]float64, w.g.Len())
	for i := range nan {
		nan[i] = math.NaN()
	}
	for r := 0; r < 4; r++ {
		if err := dsWriteRows(past, r, 1, nan); err != nil {
			return w.errorf("write %s: %v", pathCheckpointPast, err)
		}
	}
	if c.state, err = dsCreate(w.file, pathCheckpointState, []int{2, len(checkpointColumns)}, nil, nil, 0, false, true); err != nil {
		return w.errorf("create %s: %v", pathCheckpointState, err)
	}
	state := make([]float64, 2*len(checkpointColumns))
	for i := range state {
		state[i] = math.NaN()
	}
	err = dsWriteAll(c.state, state)
	if err == nil {
		err = attrWrite(c.state, "columns", checkpointColumns)
	}
	if err != nil {
		return w.errorf("write %s: %v", pathCheckpointState, err)
	}
	return nil
}

// HasCheckpoint reports whether the file has /checkpoint (NewCheckpoint, or
// a reopened file that has one).
func (w *Writer) HasCheckpoint() bool { return w.ckpt != nil }

// SetCheckpoint stores c as the checkpoint of the next snapshot, the one the
// following Append writes (index Len()); c.Time must be its time. Append
// flushes it with the snapshot: it counts once the snapshot is complete, and
// the checkpoint of the previous snapshot stays intact until then (the two
// use different slots).
//
// SetCheckpoint panics if c.N is not 0, 1 or 2 or a past density does not
// have the length of the grid.
func (w *Writer) SetCheckpoint(c *Checkpoint) error {
	if c.N < 0 || c.N > 2 {
		panic(fmt.Sprintf("data: SetCheckpoint: %d past densities", c.N))
	}
	for k := 0; k < c.N; k++ {
		if len(c.Past[k]) != w.g.Len() {
			panic(fmt.Sprintf("data: SetCheckpoint: past density %d has %d values, the grid has %d cells", k, len(c.Past[k]), w.g.Len()))
		}
	}
	if err := w.usable("SetCheckpoint"); err != nil {
		return err
	}
	if w.ckpt == nil {
		return w.errorf("SetCheckpoint: the file has no %s (NewCheckpoint)", pathCheckpoint)
	}
	if w.broken != nil {
		return w.errorf("SetCheckpoint after a write error (%v)", w.broken)
	}
	slot := w.n % 2
	for k := 0; k < c.N; k++ {
		if err := dsWriteRows(w.ckpt.past, 2*slot+k, 1, c.Past[k]); err != nil {
			return w.fail(w.errorf("write the checkpoint of snapshot %d (t=%g): %v", w.n, c.Time, err))
		}
	}
	row := w.ckpt.row
	row[0], row[1], row[2], row[3], row[4] = float64(w.n), c.Time, float64(c.Steps), c.Dt, float64(c.N)
	for k := 0; k < 2; k++ {
		row[5+k] = math.NaN()
		if k < c.N {
			row[5+k] = c.PastDt[k]
		}
	}
	if err := dsWriteRows(w.ckpt.state, slot, 1, row); err != nil {
		return w.fail(w.errorf("write the checkpoint of snapshot %d (t=%g): %v", w.n, c.Time, err))
	}
	return nil
}

// openCheckpoint opens the /checkpoint datasets of file f on grid shape
// shape; it returns nil if there are none or they do not have the layout's
// shapes.
func openCheckpoint(f hid, shape []int) *checkpointSets {
	if k, err := exists(f, pathCheckpointPast); err != nil || k != objDataset {
		return nil
	}
	if k, err := exists(f, pathCheckpointState); err != nil || k != objDataset {
		return nil
	}
	c := &checkpointSets{past: -1, state: -1, row: make([]float64, len(checkpointColumns))}
	ok := false
	defer func() {
		if !ok {
			dsClose(c.past)
			dsClose(c.state)
		}
	}()
	var err error
	if c.past, err = dsOpen(f, pathCheckpointPast); err != nil {
		return nil
	}
	if c.state, err = dsOpen(f, pathCheckpointState); err != nil {
		return nil
	}
	ps, _, pc, err := dsInfo(c.past)
	if err != nil || pc != classFloat || len(ps) != len(shape)+1 || ps[0] != 4 || !slices.Equal(ps[1:], shape) {
		return nil
	}
	ss, _, sc, err := dsInfo(c.state)
	if err != nil || sc != classFloat || !slices.Equal(ss, []int{2, len(checkpointColumns)}) {
		return nil
	}
	ok = true
	return c
}

// Checkpoint reads the checkpoint of the last complete snapshot. The error
// wraps ErrNoCheckpoint if there is none: the file was written without
// checkpoints, has no complete snapshot, or its checkpoint does not belong
// to its last snapshot (a damaged file).
func (f *File) Checkpoint() (*Checkpoint, error) {
	errf := func(format string, a ...any) error {
		return fmt.Errorf("data: %s: %w: %s", f.path, ErrNoCheckpoint, fmt.Sprintf(format, a...))
	}
	if f.kind != Transient {
		return nil, errf("a steady file has none")
	}
	n := len(f.times)
	if n == 0 {
		return nil, errf("no complete snapshot")
	}
	c := openCheckpoint(f.id, f.shape)
	if c == nil {
		return nil, errf("no %s datasets of the expected shapes", pathCheckpoint)
	}
	defer dsClose(c.past)
	defer dsClose(c.state)
	if f.swmr {
		for _, id := range []hid{c.state, c.past} {
			if err := dsRefresh(id); err != nil {
				return nil, fmt.Errorf("data: %s: refresh %s: %w", f.path, pathCheckpoint, err)
			}
		}
	}
	slot := (n - 1) % 2
	row := c.row
	if err := dsReadRows(c.state, slot, 1, row); err != nil {
		return nil, fmt.Errorf("data: %s: read %s: %w", f.path, pathCheckpointState, err)
	}
	last := f.times[n-1]
	if row[0] != float64(n-1) || row[1] != last {
		return nil, errf("the checkpoint in slot %d is for snapshot %v at t=%v, not for the last snapshot %d at t=%v", slot, row[0], row[1], n-1, last)
	}
	cp := &Checkpoint{Time: last, Dt: row[3]}
	steps, np := row[2], row[4]
	if !(steps >= 0 && steps <= 1<<53 && steps == math.Trunc(steps)) || !(np == 0 || np == 1 || np == 2) || !(cp.Dt >= 0 && !math.IsInf(cp.Dt, 0)) {
		return nil, errf("invalid checkpoint values %v", row)
	}
	cp.Steps, cp.N = int(steps), int(np)
	for k := 0; k < cp.N; k++ {
		dt := row[5+k]
		if !(dt > 0 && !math.IsInf(dt, 0)) {
			return nil, errf("invalid past step %v", dt)
		}
		cp.PastDt[k] = dt
		cp.Past[k] = make([]float64, f.Len())
		if err := dsReadRows(c.past, 2*slot+k, 1, cp.Past[k]); err != nil {
			return nil, fmt.Errorf("data: %s: read %s: %w", f.path, pathCheckpointPast, err)
		}
		for i, v := range cp.Past[k] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errf("past density %d is %v at cell %d", k+1, v, i)
			}
		}
	}
	return cp, nil
}
