package data

/*
#include <hdf5.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Reopen opens the transient file at path, written by a Writer whose run
// was interrupted or killed, to append further snapshots: the Writer it
// returns continues with snapshot Len(), the number of complete snapshots in
// the file. Rows that an append cut short left beyond them, in /density,
// /mass, /mean, /covariance and every other per-snapshot dataset (first
// dimension "time"), and trailing unwritten entries of /time, are discarded.
//
// The file is in SWMR mode from the moment it is opened (StartSWMR is not
// needed): no dataset, dimension or attribute can be created, and readers
// may read it meanwhile. Opening marks the file for SWMR readers in one
// write of its superblock, so that a crash during Reopen, like one during
// any append, leaves a file that SWMR readers open with every complete
// snapshot intact. Use Series to get the other per-snapshot datasets, and
// HasCheckpoint / SetCheckpoint if the file has /checkpoint.
//
// Reopen fails if a writer is still writing the file (where the system can
// tell, see WriteState), if it is steady, not a fokker-density file, or was
// not written in the HDF5 1.10 format that SWMR needs.
func Reopen(path string) (*Writer, error) {
	errf := func(err error) error { return fmt.Errorf("data: reopen %s: %w", path, err) }
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, errf(err)
	}
	if fi.IsDir() {
		return nil, errf(errors.New("is a directory"))
	}
	if fi.Size() == 0 || !isHDF5(path) {
		return nil, errf(errors.New("not an HDF5 file"))
	}
	if err := checkHeaps(path); err != nil {
		return nil, errf(fmt.Errorf("the file is damaged: %w", err))
	}
	lock, err := lockWriter(path)
	if err != nil {
		return nil, errf(err)
	}
	unlock := func() {
		if lock != nil {
			lock.Close()
		}
	}
	id, err := fileOpenRW(path, true, true)
	if err != nil {
		unlock()
		if strings.Contains(err.Error(), "superblock") || strings.Contains(err.Error(), "SWMR") {
			return nil, errf(fmt.Errorf("the file cannot be written in SWMR mode (it must be in the HDF5 1.10 format fokker writes): %w", err))
		}
		return nil, errf(err)
	}
	f := &File{path: path, id: id, time: -1, density: -1, mass: -1, mean: -1, cov: -1, limit: vectorLimit(fi.Size())}
	if err := f.load(); err != nil {
		f.Close()
		unlock()
		return nil, errf(err)
	}
	if f.kind != Transient {
		f.Close()
		unlock()
		return nil, errf(errors.New("a steady file has no snapshots to append to"))
	}
	g, err := f.Grid()
	if err != nil {
		f.Close()
		unlock()
		return nil, err
	}
	w := &Writer{
		path:      path,
		target:    path,
		h5path:    path,
		g:         g,
		kind:      Transient,
		deflate:   DefaultDeflate,
		file:      id,
		published: true,
		swmr:      true,
		lock:      lock,
		dims:      map[string]*dimension{},
		n:         len(f.times),
	}
	// A file made WithSnapshots keeps its count: /time's maximum length.
	if _, ms, _, err := dsInfo(f.time); err == nil && len(ms) == 1 && ms[0] > 0 {
		w.snapshots = ms[0]
	}
	// The writer takes over the file and the datasets of f.
	d := g.Dim()
	w.time = reopened(w, PathTime, f.time, nil)
	w.dims[DimTime] = &dimension{id: f.time, size: -1}
	w.density = reopened(w, PathDensity, f.density, g.Shape())
	w.mass = reopened(w, PathMass, f.mass, nil)
	w.mean = reopened(w, PathMean, f.mean, []int{d})
	w.cov = reopened(w, PathCovariance, f.cov, []int{d, d})
	w.series = append(w.series, w.density, w.mass, w.mean, w.cov)
	f.id, f.time, f.density, f.mass, f.mean, f.cov = -1, -1, -1, -1, -1, -1

	if err := w.reopenSeries(); err != nil {
		w.Close()
		return nil, errf(err)
	}
	w.ckpt = openCheckpoint(id, g.Shape())
	// Discard what lies beyond the complete snapshots: the other series
	// first, /time last, as appends write them.
	for _, s := range append(slices.Clone(w.series), w.time) {
		if s.n == w.n || !s.perSnapshot {
			continue
		}
		if err := s.truncate(w.n); err != nil {
			w.Close()
			return nil, errf(fmt.Errorf("discard the incomplete rows of %s: %w", s.path, err))
		}
	}
	if err := fileFlush(id); err != nil {
		w.Close()
		return nil, errf(err)
	}
	return w, nil
}

// reopened wraps the open dataset id, of rows of the given shape, as a
// per-snapshot Series of w.
func reopened(w *Writer, path string, id hid, row []int) *Series {
	shape, _, _, err := dsInfo(id)
	n := 0
	if err == nil && len(shape) > 0 {
		n = shape[0]
	}
	return &Series{w: w, path: path, id: id, row: prod(row), n: n, perSnapshot: true, ext: cdims(nil, append([]int{n}, row...))}
}

// reopenSeries opens the appendable datasets of the file other than the
// five standard ones and /checkpoint.
func (w *Writer) reopenSeries() error {
	paths, err := datasetPaths(w.file)
	if err != nil {
		return fmt.Errorf("list datasets: %w", err)
	}
	slices.Sort(paths)
	for _, p := range paths {
		switch p {
		case PathTime, PathDensity, PathMass, PathMean, PathCovariance:
			continue
		}
		if strings.HasPrefix(p, pathCheckpoint+"/") {
			continue
		}
		id, err := dsOpen(w.file, p)
		if err != nil {
			return fmt.Errorf("open %s: %w", p, err)
		}
		shape, maxShape, class, err := dsInfo(id)
		if err != nil || len(shape) == 0 || (class != classFloat && class != classInteger) {
			dsClose(id)
			continue
		}
		// Appendable: an unlimited first dimension, or, in a file made
		// WithSnapshots, a per-snapshot one of that maximum length.
		perSnapshot := dimName(id, 0) == DimTime
		if maxShape[0] != -1 && !(perSnapshot && w.snapshots > 0 && maxShape[0] == w.snapshots) {
			dsClose(id)
			continue
		}
		s := &Series{w: w, path: p, id: id, row: prod(shape[1:]), n: shape[0], ext: cdims(nil, shape), perSnapshot: perSnapshot}
		w.series = append(w.series, s)
	}
	return nil
}

// truncate sets the number of rows of s to n.
func (s *Series) truncate(n int) error {
	s.ext[0] = C.hsize_t(n)
	dims := make([]int, len(s.ext))
	for k, v := range s.ext {
		dims[k] = int(v)
	}
	if err := dsSetExtent(s.id, dims); err != nil {
		return err
	}
	s.n = n
	return nil
}

// Series returns the appendable dataset at path created by NewSeries or
// NewGridSeries, or found by Reopen (which finds every dataset with an
// unlimited first dimension — or, in a file made WithSnapshots, a first
// dimension time of that maximum length —, besides the five standard ones).
func (w *Writer) Series(path string) (*Series, error) {
	p, err := cleanPath(path)
	if err != nil {
		return nil, w.errorf("Series: %v", err)
	}
	for _, s := range w.series {
		if s.path == p {
			return s, nil
		}
	}
	return nil, w.errorf("no appendable dataset %s", p)
}
