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
	"path/filepath"
	"time"

	"github.com/fokkerplanck/fokker/grid"
)

// DefaultDeflate is the deflate (gzip) level of density-sized datasets when
// no WithDeflate option is given.
const DefaultDeflate = 4

// Option configures NewWriter.
type Option func(*config)

type config struct {
	header    Header
	overwrite bool
	deflate   int
	kind      Kind
	snapshots int
}

// WithHeader sets the descriptive root attributes.
func WithHeader(h Header) Option { return func(c *config) { c.header = h } }

// WithOverwrite lets NewWriter replace an existing file. Without it NewWriter
// fails if the file exists.
func WithOverwrite() Option { return func(c *config) { c.overwrite = true } }

// WithDeflate sets the deflate level (0 to 9, 0 meaning no compression) of
// density-sized datasets. The default is DefaultDeflate.
func WithDeflate(level int) Option {
	if level < 0 || level > 9 {
		panic(fmt.Sprintf("data: deflate level %d out of range [0, 9]", level))
	}
	return func(c *config) { c.deflate = level }
}

// WithSnapshots declares that a transient file will hold at most n
// snapshots (n > 0), as when the output times are known in advance. Every
// per-snapshot dataset then has the maximum shape [n, …] instead of an
// unlimited first dimension, and its storage is allocated when it is
// created, before the file is published: appending a snapshot only
// writes its rows and extends the datasets, and never restructures HDF5's
// chunk index. (An index that grows — the extensible array of an
// unlimited dimension — can be left unreadable by a writer killed while
// it restructures, which HDF5 1.10's SWMR ordering does not prevent:
// measured, TestKillAnywhere.) Appending more than n snapshots fails.
func WithSnapshots(n int) Option {
	if n <= 0 {
		panic(fmt.Sprintf("data: WithSnapshots(%d): want a positive count", n))
	}
	return func(c *config) { c.snapshots = n }
}

// WithKind sets what the file holds: Transient (the default) or Steady.
func WithKind(k Kind) Option {
	if k != Transient && k != Steady {
		panic(fmt.Sprintf("data: invalid kind %v", k))
	}
	return func(c *config) { c.kind = k }
}

// dimension is a dimension scale in the root group.
type dimension struct {
	id   hid
	size int // -1 for the unlimited time dimension
}

// Writer writes one fokker-density file. Create it with NewWriter (or
// Reopen an interrupted one); always end with Close, or with Abort to remove
// the file.
type Writer struct {
	path    string // the path given to NewWriter: what Path returns
	target  string // where the file is published: path, or its target if a symbolic link
	h5path  string // where the file is: a temporary name until published
	g       *grid.Grid
	kind    Kind
	deflate int
	file    hid
	// snapshots is the most the file holds (WithSnapshots; 0: unlimited).
	snapshots int

	overwrite bool     // publish may replace an existing file
	published bool     // the file is at path
	lock      *os.File // holds the writer lock (nil where there is none)
	broken    error    // the first write error: the file is sealed at Close

	swmr   bool
	closed bool
	steady bool // WriteStationary has been called

	dims   map[string]*dimension
	series []*Series

	time, density, mass, mean, cov *Series
	n                              int
	ckpt                           *checkpointSets

	mom     Moments
	scratch [1]float64
}

// NewWriter creates the file at path for densities on g, with the root
// attributes, the grid and, for a Transient file, the empty time series
// /time, /density, /mass, /mean and /covariance. It fails if the file exists
// (unless WithOverwrite is given; a file that a running writer is writing
// is never replaced), if its directory is missing or not writable, or if an
// axis name of g cannot be used (see docs/format.md).
//
// The file is first written under a temporary name in the same directory
// (".<name>.<random>.tmp") and appears at path, by an atomic rename, only
// once it is complete enough for any reader: at StartSWMR, or at Close for a
// file never switched to SWMR mode. Until then a file that path named
// before is untouched, and a crash leaves at most the temporary file,
// never a half-made file at path.
func NewWriter(path string, g *grid.Grid, opts ...Option) (*Writer, error) {
	if g == nil {
		panic("data: NewWriter with a nil grid")
	}
	c := config{deflate: DefaultDeflate}
	for _, o := range opts {
		o(&c)
	}
	for _, name := range g.Names() {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("data: create %s: axis %v", path, err)
		}
	}
	for name := range c.header.Extra {
		if rootAttrs[name] {
			return nil, fmt.Errorf("data: create %s: extra attribute %q clashes with a standard root attribute", path, name)
		}
	}
	final, mode, err := prepare(path, c.overwrite)
	if err != nil {
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	tmp, lock, err := tempFile(final, mode)
	if err != nil {
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	f, err := fileCreate(tmp, true)
	if err != nil {
		os.Remove(tmp)
		if lock != nil {
			lock.Close()
		}
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	w := &Writer{
		path:      path,
		target:    final,
		h5path:    tmp,
		g:         g,
		kind:      c.kind,
		deflate:   c.deflate,
		snapshots: c.snapshots,
		file:      f,
		overwrite: c.overwrite,
		lock:      lock,
		dims:      map[string]*dimension{},
	}
	if err := w.init(c.header); err != nil {
		w.Abort()
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	return w, nil
}

// prepare checks that a file can be created at path, so that errors come
// with the operating system's explanation rather than HDF5's. It returns the
// path to publish the file at (path, or the target of path if it is a
// symbolic link) and the permissions to give it.
func prepare(path string, overwrite bool) (string, fs.FileMode, error) {
	mode := fs.FileMode(0o644)
	fi, err := os.Stat(path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case err == nil && fi.IsDir():
		return "", 0, errors.New("is a directory")
	case err == nil && !overwrite:
		return "", 0, fmt.Errorf("file exists (use WithOverwrite / --force to replace it)")
	case err == nil:
		if alive, _ := writerAlive(path); alive {
			return "", 0, errors.New("the file is being written by another process; not replacing it")
		}
		mode = fi.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return "", 0, err
	}
	final := path
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		if target, err := filepath.EvalSymlinks(path); err == nil {
			final = target
		}
	}
	return final, mode, nil
}

// tempFile creates the temporary file that a new file is written to before
// it is published at final, in the directory of final (a rename does not
// cross file systems), and takes its writer lock.
func tempFile(final string, mode fs.FileMode) (string, *os.File, error) {
	var pe *fs.PathError
	fh, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", nil, err
	}
	tmp := fh.Name()
	err = fh.Chmod(mode)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	var lock *os.File
	if err == nil {
		lock, err = lockWriter(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return "", nil, err
	}
	return tmp, lock, nil
}

// publish moves the file from its temporary name to its path (once).
func (w *Writer) publish() error {
	if w.published {
		return nil
	}
	var err error
	if w.overwrite {
		err = os.Rename(w.h5path, w.target)
	} else {
		// A hard link fails if the path exists, where a rename would
		// replace a file created since NewWriter checked.
		err = os.Link(w.h5path, w.target)
		switch {
		case err == nil:
			err = os.Remove(w.h5path)
		case errors.Is(err, fs.ErrExist):
			err = errors.New("file exists (it was created while this file was being written)")
		default:
			// No hard links on this file system: check, then rename.
			if _, serr := os.Lstat(w.target); serr == nil {
				err = errors.New("file exists (it was created while this file was being written)")
			} else {
				err = os.Rename(w.h5path, w.target)
			}
		}
	}
	if err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return w.errorf("publish the file (written as %s): %v", w.h5path, err)
	}
	w.published = true
	w.h5path = w.target
	return nil
}

func (w *Writer) init(h Header) error {
	g := w.g
	d := g.Dim()
	if h.FokkerVersion == "" {
		h.FokkerVersion = "devel"
	}
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	attrs := []struct {
		name  string
		value any
	}{
		{attrFormat, Format},
		{attrFormatVersion, int64(FormatVersion)},
		{attrFokkerVersion, h.FokkerVersion},
		{attrCreated, h.Created.UTC().Format(time.RFC3339)},
		{attrCommand, h.Command},
		{attrSpec, h.Spec},
		{attrConvention, h.Convention},
		{attrScheme, h.Scheme},
		{attrAxes, g.Names()},
	}
	for _, a := range attrs {
		if err := attrWrite(w.file, a.name, a.value); err != nil {
			return fmt.Errorf("root attribute %s: %w", a.name, err)
		}
	}
	for _, name := range sortedKeys(h.Extra) {
		if err := attrWrite(w.file, name, h.Extra[name]); err != nil {
			return fmt.Errorf("root attribute %s: %w", name, err)
		}
	}

	// Axes: the centres are the dimension scale /<axis>, hard-linked as
	// /grid/<axis>; the faces are /grid/<axis>_edges.
	for k, name := range g.Names() {
		if err := w.AddDim(name, g.Centres(k)); err != nil {
			return err
		}
		if err := hardLink(w.file, "/"+name, centresPath(name)); err != nil {
			return fmt.Errorf("link %s: %w", centresPath(name), err)
		}
		e := g.Edges(k)
		id, err := dsCreate(w.file, edgesPath(name), []int{len(e)}, nil, nil, 0, false, false)
		if err != nil {
			return fmt.Errorf("create %s: %w", edgesPath(name), err)
		}
		err = dsWriteAll(id, e)
		if err == nil {
			// A scale of its own, so that the /grid group opens in xarray too.
			err = setScale(id, name+"_edges")
		}
		lo, hi := g.Bounds(k)
		if err == nil {
			err = attrWrite(id, attrLower, lo.String())
		}
		if err == nil {
			err = attrWrite(id, attrUpper, hi.String())
		}
		if cerr := dsClose(id); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", edgesPath(name), err)
		}
	}
	for _, name := range []string{DimAxis, DimAxis2} {
		if err := w.addDim(name, nil, g.Names()); err != nil {
			return err
		}
	}
	if w.kind == Steady {
		return nil
	}

	// Time series. /time is created last: it is written last too.
	// With a known count, /time is allocated and filled with NaN at
	// creation: an entry not yet written reads NaN.
	id, err := dsCreateAlloc(w.file, PathTime, []int{0}, []int{w.maxRows()}, seriesChunk(nil), 0, false, true, w.alloc(allocEarlyFilled))
	if err != nil {
		return fmt.Errorf("create %s: %w", PathTime, err)
	}
	if err := setScale(id, DimTime); err != nil {
		dsClose(id)
		return fmt.Errorf("dimension scale %s: %w", PathTime, err)
	}
	w.dims[DimTime] = &dimension{id: id, size: -1}
	w.time = &Series{w: w, path: PathTime, id: id, ext: make([]C.hsize_t, 1)}

	timeGrid := append([]string{DimTime}, g.Names()...)
	if w.density, err = w.newSeries(PathDensity, g.Shape(), timeGrid, true); err != nil {
		return err
	}
	if w.mass, err = w.newSeries(PathMass, nil, []string{DimTime}, false); err != nil {
		return err
	}
	if w.mean, err = w.newSeries(PathMean, []int{d}, []string{DimTime, DimAxis}, false); err != nil {
		return err
	}
	if w.cov, err = w.newSeries(PathCovariance, []int{d, d}, []string{DimTime, DimAxis, DimAxis2}, false); err != nil {
		return err
	}
	return fileFlush(w.file)
}

// Path returns the path of the file.
func (w *Writer) Path() string { return w.path }

// Grid returns the grid of the file.
func (w *Writer) Grid() *grid.Grid { return w.g }

// Kind returns what the file holds.
func (w *Writer) Kind() Kind { return w.kind }

// Len returns the number of snapshots appended.
func (w *Writer) Len() int { return w.n }

func (w *Writer) errorf(format string, args ...any) error {
	return fmt.Errorf("data: %s: %s", w.path, fmt.Sprintf(format, args...))
}

func (w *Writer) usable(what string) error {
	if w.closed {
		return w.errorf("%s after Close", what)
	}
	return nil
}

func (w *Writer) creatable(what string) error {
	if err := w.usable(what); err != nil {
		return err
	}
	if w.swmr {
		return w.errorf("%s after StartSWMR: SWMR files cannot get new datasets, dimensions or attributes", what)
	}
	return nil
}

// Append writes the snapshot p at time t: its density to /density, its
// moments (ComputeMoments) to /mass, /mean and /covariance, flushes the
// file, then appends t to /time and flushes again. When Append returns nil
// the snapshot is on disk and counted by readers. Rows of other series
// (NewSeries) appended before Append are flushed with it.
//
// Append panics if the file is Steady or len(p) != Grid().Len().
func (w *Writer) Append(t float64, p []float64) error {
	if w.kind != Transient {
		panic("data: Append on a steady file (use WriteStationary)")
	}
	if len(p) != w.g.Len() {
		panic(fmt.Sprintf("data: Append: density has %d values, the grid has %d cells", len(p), w.g.Len()))
	}
	if err := w.usable("Append"); err != nil {
		return err
	}
	if w.broken != nil {
		return w.errorf("Append after a write error (%v)", w.broken)
	}
	if w.snapshots > 0 && w.n >= w.snapshots {
		return w.errorf("Append: snapshot %d (t=%g): the file was made for %d snapshots (WithSnapshots)", w.n, t, w.snapshots)
	}
	ComputeMoments(&w.mom, w.g, p)
	w.scratch[0] = w.mom.Mass
	for _, a := range []struct {
		s *Series
		v []float64
	}{{w.density, p}, {w.mass, w.scratch[:]}, {w.mean, w.mom.Mean}, {w.cov, w.mom.Cov}} {
		if err := a.s.append(w.n, a.v); err != nil {
			return w.fail(w.errorf("append snapshot %d (t=%g) to %s: %v", w.n, t, a.s.path, err))
		}
	}
	if err := fileFlush(w.file); err != nil {
		return w.fail(w.errorf("flush snapshot %d (t=%g): %v", w.n, t, err))
	}
	w.scratch[0] = t
	if err := w.time.append(w.n, w.scratch[:]); err != nil {
		return w.fail(w.errorf("append snapshot %d (t=%g) to %s: %v", w.n, t, PathTime, err))
	}
	if err := fileFlush(w.file); err != nil {
		return w.fail(w.errorf("flush snapshot %d (t=%g): %v", w.n, t, err))
	}
	w.n++
	return nil
}

// fail records err, a failed write: HDF5 may hold data it could not write,
// and must write nothing more (see Close).
func (w *Writer) fail(err error) error {
	if w.broken == nil {
		w.broken = err
	}
	return err
}

// WriteStationary writes the stationary density p to /stationary with the
// attribute residual, and its moments to /mass (scalar), /mean [d] and
// /covariance [d, d]. It can be called once, before StartSWMR.
//
// WriteStationary panics if the file is not Steady or len(p) !=
// Grid().Len().
func (w *Writer) WriteStationary(p []float64, residual float64) error {
	if w.kind != Steady {
		panic("data: WriteStationary on a transient file (use WithKind(Steady))")
	}
	if len(p) != w.g.Len() {
		panic(fmt.Sprintf("data: WriteStationary: density has %d values, the grid has %d cells", len(p), w.g.Len()))
	}
	if err := w.creatable("WriteStationary"); err != nil {
		return err
	}
	if w.steady {
		return w.errorf("WriteStationary called twice")
	}
	w.steady = true
	ComputeMoments(&w.mom, w.g, p)
	d := w.g.Dim()
	if err := w.writeDataset(PathStationary, w.g.Shape(), p, w.g.Names(), map[string]any{AttrResidual: residual}); err != nil {
		return err
	}
	w.scratch[0] = w.mom.Mass
	if err := w.writeDataset(PathMass, nil, w.scratch[:], nil, nil); err != nil {
		return err
	}
	if err := w.writeDataset(PathMean, []int{d}, w.mom.Mean, []string{DimAxis}, nil); err != nil {
		return err
	}
	if err := w.writeDataset(PathCovariance, []int{d, d}, w.mom.Cov, []string{DimAxis, DimAxis2}, nil); err != nil {
		return err
	}
	return w.Flush()
}

// AddDim creates the dimension name with the given coordinates: a dimension
// scale /<name> in the root group, which datasets can then name in their
// dims. The name must be an identifier not used by the layout.
func (w *Writer) AddDim(name string, coords []float64) error {
	if err := checkName(name); err != nil {
		return w.errorf("AddDim: %v", err)
	}
	return w.addDim(name, coords, nil)
}

// AddLabelDim is like AddDim with string coordinates (labels).
func (w *Writer) AddLabelDim(name string, labels []string) error {
	if err := checkName(name); err != nil {
		return w.errorf("AddLabelDim: %v", err)
	}
	return w.addDim(name, nil, labels)
}

func (w *Writer) addDim(name string, coords []float64, labels []string) error {
	if err := w.creatable("AddDim"); err != nil {
		return err
	}
	if _, ok := w.dims[name]; ok {
		return w.errorf("dimension %q exists", name)
	}
	var (
		id  hid
		err error
		n   int
	)
	if labels != nil {
		n = len(labels)
		id, err = dsCreateStrings(w.file, "/"+name, labels)
	} else {
		n = len(coords)
		id, err = dsCreate(w.file, "/"+name, []int{n}, nil, nil, 0, false, false)
		if err == nil {
			if err = dsWriteAll(id, coords); err != nil {
				dsClose(id)
			}
		}
	}
	if err == nil {
		if err = setScale(id, name); err != nil {
			dsClose(id)
		}
	}
	if err != nil {
		return w.errorf("create dimension /%s: %v", name, err)
	}
	w.dims[name] = &dimension{id: id, size: n}
	return nil
}

// attach attaches the scales named dims to the dataset id of the given shape.
func (w *Writer) attach(path string, id hid, shape []int, dims []string) error {
	for k, name := range dims {
		if err := attachScale(id, w.dims[name].id, k); err != nil {
			return fmt.Errorf("attach dimension %q to %s: %w", name, path, err)
		}
	}
	return nil
}

// checkDims checks dims against the shape of a new dataset at path.
func (w *Writer) checkDims(path string, shape []int, dims []string) error {
	if dims == nil {
		if len(shape) > 0 && isRoot(path) {
			return fmt.Errorf("%s: a dataset in the root group needs dimension names (xarray cannot open the file otherwise)", path)
		}
		return nil
	}
	if len(dims) != len(shape) {
		return fmt.Errorf("%s: %d dimension names for rank %d", path, len(dims), len(shape))
	}
	for k, name := range dims {
		dim, ok := w.dims[name]
		if !ok {
			return fmt.Errorf("%s: unknown dimension %q (define it with AddDim)", path, name)
		}
		if dim.size >= 0 && dim.size != shape[k] {
			return fmt.Errorf("%s: dimension %q has length %d, the dataset has %d along axis %d", path, name, dim.size, shape[k], k)
		}
	}
	return nil
}

func isRoot(path string) bool {
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			return false
		}
	}
	return true
}

// WriteDataset writes the float64 dataset path (intermediate groups are
// created) of the given shape from v, row-major. A nil or empty shape writes
// a scalar. dims names the dimension of each axis (axis names, "time",
// "axis", "axis2" or one made by AddDim); it may be nil only outside the root
// group. Datasets of 64 KiB or more are chunked and deflate-compressed.
func (w *Writer) WriteDataset(path string, shape []int, v []float64, dims []string) error {
	if len(v) != prod(shape) {
		panic(fmt.Sprintf("data: WriteDataset %s: %d values for shape %v", path, len(v), shape))
	}
	if err := w.creatable("WriteDataset"); err != nil {
		return err
	}
	p, err := cleanPath(path)
	if err != nil {
		return w.errorf("WriteDataset: %v", err)
	}
	return w.writeDataset(p, shape, v, dims, nil)
}

// WriteGridDataset writes a field on the grid, such as /sgd/drift_x: a
// dataset of the grid's shape with the axes as dimensions.
func (w *Writer) WriteGridDataset(path string, v []float64) error {
	return w.WriteDataset(path, w.g.Shape(), v, w.g.Names())
}

func (w *Writer) writeDataset(path string, shape []int, v []float64, dims []string, attrs map[string]any) error {
	if err := w.checkDims(path, shape, dims); err != nil {
		return w.errorf("%v", err)
	}
	var chunk []int
	deflate := 0
	if len(shape) > 0 && 8*len(v) >= 64<<10 {
		chunk = gridChunk(0, shape)
		deflate = w.deflate
	}
	id, err := dsCreate(w.file, path, shape, nil, chunk, deflate, false, false)
	if err != nil {
		return w.errorf("create %s: %v", path, err)
	}
	err = dsWriteAll(id, v)
	if err == nil {
		err = w.attach(path, id, shape, dims)
	}
	for _, name := range sortedKeys(attrs) {
		if err == nil {
			err = attrWrite(id, name, attrs[name])
		}
	}
	if cerr := dsClose(id); err == nil {
		err = cerr
	}
	if err != nil {
		return w.errorf("write %s: %v", path, err)
	}
	return nil
}

// Series is a dataset that grows by one row at a time along its first
// dimension, like /density. Get one from NewSeries or NewGridSeries.
type Series struct {
	w    *Writer
	path string
	id   hid
	row  int // values per row
	n    int
	ext  []C.hsize_t // extent after the next append: n+1, row shape...

	perSnapshot bool // first dimension "time": one row per snapshot
}

// NewSeries creates an appendable dataset path whose rows have the given
// shape; the dataset has shape [n, row...] after n appends. dims names its
// len(row)+1 dimensions, the first usually "time"; it may be nil only
// outside the root group. Rows are float64, NaN where not written.
//
// For a series indexed by snapshot, append the row of a snapshot before
// calling Writer.Append for it: then every snapshot counted complete (see
// the package documentation) has its row, and the series is flushed by
// Writer.Append. A series appended on its own is flushed by Flush.
func (w *Writer) NewSeries(path string, row []int, dims []string) (*Series, error) {
	if err := w.creatable("NewSeries"); err != nil {
		return nil, err
	}
	p, err := cleanPath(path)
	if err != nil {
		return nil, w.errorf("NewSeries: %v", err)
	}
	return w.newSeries(p, row, dims, false)
}

// NewGridSeries creates an appendable dataset of densities on the grid, such
// as /exact or /particles/histogram: shape [n_snap, n_1, …, n_d], dimensions
// (time, axes…), chunked one row per chunk and deflate-compressed like
// /density. The file must be Transient.
func (w *Writer) NewGridSeries(path string) (*Series, error) {
	if err := w.creatable("NewGridSeries"); err != nil {
		return nil, err
	}
	p, err := cleanPath(path)
	if err != nil {
		return nil, w.errorf("NewGridSeries: %v", err)
	}
	if w.kind != Transient {
		return nil, w.errorf("NewGridSeries %s: the file is steady and has no time dimension", p)
	}
	return w.newSeries(p, w.g.Shape(), append([]string{DimTime}, w.g.Names()...), true)
}

func (w *Writer) newSeries(path string, row []int, dims []string, gridded bool) (*Series, error) {
	shape := append([]int{0}, row...)
	if err := w.checkDims(path, shape, dims); err != nil {
		return nil, w.errorf("%v", err)
	}
	perSnapshot := len(dims) > 0 && dims[0] == DimTime
	maxShape := append([]int{-1}, row...)
	alloc := allocIncremental
	if perSnapshot {
		maxShape[0], alloc = w.maxRows(), w.alloc(allocEarly)
	}
	var chunk []int
	deflate := 0
	if gridded {
		chunk = gridChunk(1, row)
		deflate = w.deflate
	} else {
		chunk = seriesChunk(row)
		if chunkBytes(chunk) >= 64<<10 && prod(row) >= 512 {
			deflate = w.deflate
		}
	}
	id, err := dsCreateAlloc(w.file, path, shape, maxShape, chunk, deflate, false, true, alloc)
	if err != nil {
		return nil, w.errorf("create %s: %v", path, err)
	}
	if err := w.attach(path, id, shape, dims); err != nil {
		dsClose(id)
		return nil, w.errorf("%v", err)
	}
	s := &Series{w: w, path: path, id: id, row: prod(row), ext: cdims(nil, shape), perSnapshot: perSnapshot}
	w.series = append(w.series, s)
	return s, nil
}

// Path returns the path of the dataset.
func (s *Series) Path() string { return s.path }

// Len returns the number of rows appended.
func (s *Series) Len() int { return s.n }

// Append appends the row v (row-major). It panics if v does not have the
// length of a row.
func (s *Series) Append(v []float64) error {
	if len(v) != s.row {
		panic(fmt.Sprintf("data: Series %s: row of %d values, want %d", s.path, len(v), s.row))
	}
	if err := s.w.usable("Series.Append"); err != nil {
		return err
	}
	if s.w.broken != nil {
		return s.w.errorf("Series.Append after a write error (%v)", s.w.broken)
	}
	if m := s.w.snapshots; m > 0 && s.n >= m && s.perSnapshot {
		// A misuse, not a failed write: the file stays usable.
		return s.w.errorf("append row %d to %s: the file was made for %d snapshots (WithSnapshots)", s.n, s.path, m)
	}
	if err := s.append(s.n, v); err != nil {
		return s.w.fail(s.w.errorf("append row %d to %s: %v", s.n, s.path, err))
	}
	return nil
}

// maxRows is the maximum length of the first dimension of per-snapshot
// datasets (-1: unlimited).
func (w *Writer) maxRows() int {
	if w.snapshots > 0 {
		return w.snapshots
	}
	return -1
}

// alloc returns the space allocation of per-snapshot datasets: early when
// the number of snapshots is known.
func (w *Writer) alloc(early int) int {
	if w.snapshots > 0 {
		return early
	}
	return allocIncremental
}

// append writes row i (extending the dataset to i+1 rows) and sets the
// length to i+1.
func (s *Series) append(i int, v []float64) error {
	s.ext[0] = C.hsize_t(i + 1)
	if err := dsAppend(s.id, s.ext, v); err != nil {
		return err
	}
	s.n = i + 1
	return nil
}

// SetAttr sets (or replaces) the attribute name of the object at path ("/"
// for the root group). Values may be string, float64, int, int64, bool or
// slices of string, float64, int, int64.
func (w *Writer) SetAttr(path, name string, value any) error {
	if err := w.creatable("SetAttr"); err != nil {
		return err
	}
	if path != "/" {
		p, err := cleanPath(path)
		if err != nil {
			return w.errorf("SetAttr: %v", err)
		}
		path = p
	}
	if path == "/" && rootAttrs[name] {
		return w.errorf("SetAttr: root attribute %q is set by NewWriter", name)
	}
	id, err := objOpen(w.file, path)
	if err != nil {
		return w.errorf("SetAttr %s on %s: %v", name, path, err)
	}
	err = attrWrite(id, name, value)
	if cerr := objClose(id); err == nil {
		err = cerr
	}
	if err != nil {
		return w.errorf("SetAttr %s on %s: %v", name, path, err)
	}
	return nil
}

// StartSWMR switches the file to HDF5's single-writer/multiple-reader mode:
// from now on readers in other processes can open the file while it is being
// written (h5py: h5py.File(path, "r", libver="latest", swmr=True)), and see
// new snapshots after refreshing. Call it after creating every dataset,
// dimension and attribute: afterwards only Append, Series.Append and Flush
// are allowed.
func (w *Writer) StartSWMR() error {
	if w.swmr && !w.closed {
		return w.errorf("StartSWMR called twice")
	}
	if err := w.creatable("StartSWMR"); err != nil {
		return err
	}
	if err := fileStartSWMR(w.file); err != nil {
		return w.errorf("start SWMR: %v", err)
	}
	w.swmr = true
	return w.publish()
}

// SWMR reports whether StartSWMR has been called.
func (w *Writer) SWMR() bool { return w.swmr }

// Flush writes everything buffered to the file.
func (w *Writer) Flush() error {
	if err := w.usable("Flush"); err != nil {
		return err
	}
	if w.broken != nil {
		return w.errorf("Flush after a write error (%v)", w.broken)
	}
	if err := fileFlush(w.file); err != nil {
		return w.fail(w.errorf("flush: %v", err))
	}
	return nil
}

// Close closes every dataset and the file, and publishes the file at its
// path if StartSWMR has not (see NewWriter). Calling Close again does
// nothing.
//
// After a write error (a full disk, an I/O error) Close writes nothing
// more: it closes the file as it stands after the last successful flush,
// which is then like the file of a killed writer — every complete snapshot
// is intact and readable, in SWMR mode (Open does that by itself) or after
// Recover — and returns an error saying so.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if w.broken != nil {
		serr := fileSeal(w.file)
		w.close() // errors expected: every write fails now
		if !w.published {
			os.Remove(w.h5path)
		}
		w.unlock()
		if serr != nil {
			return w.errorf("close after a write error (%v): %v", w.broken, serr)
		}
		return w.errorf("closed without writing more after a write error (%v): the %d complete snapshots are intact", w.broken, w.n)
	}
	err := w.close()
	if err == nil {
		err = w.publish()
	} else if !w.published {
		// A file that could not be closed cleanly is not published.
		os.Remove(w.h5path)
	}
	w.unlock()
	return err
}

// close closes the HDF5 objects and the file.
func (w *Writer) close() error {
	w.closed = true
	var errs []error
	for _, s := range w.series {
		if err := dsClose(s.id); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", s.path, err))
		}
	}
	for _, name := range sortedKeys(w.dims) {
		if err := dsClose(w.dims[name].id); err != nil {
			errs = append(errs, fmt.Errorf("close /%s: %w", name, err))
		}
	}
	if c := w.ckpt; c != nil {
		for _, d := range []struct {
			path string
			id   hid
		}{{pathCheckpointPast, c.past}, {pathCheckpointState, c.state}} {
			if err := dsClose(d.id); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", d.path, err))
			}
		}
	}
	if err := fileClose(w.file); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("data: close %s: %w", w.path, err)
	}
	return nil
}

func (w *Writer) unlock() {
	if w.lock != nil {
		w.lock.Close()
		w.lock = nil
	}
}

// Abort closes the writer and removes the file (its temporary file if it
// was not published yet), for when the run cannot go on (say, its input
// fails validation after the file was created).
func (w *Writer) Abort() error {
	var cerr error
	if !w.closed {
		cerr = w.close()
	}
	w.unlock()
	if err := os.Remove(w.h5path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errors.Join(cerr, fmt.Errorf("data: abort: %w", err))
	}
	return cerr
}
