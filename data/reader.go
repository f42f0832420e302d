package data

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fokkerplanck/fokker/grid"
)

// WriteState tells whether a file is still being written.
type WriteState int

const (
	// Closed: the writer closed the file (or Recover cleared the marks of a
	// killed writer). Every HDF5 reader opens it.
	Closed WriteState = iota
	// Writing: a writer in SWMR mode is appending to the file now.
	Writing
	// Crashed: the file is marked open for writing, but no writer holds it:
	// its writer was killed. Its complete snapshots are intact; SWMR readers
	// open it, and Recover makes it readable by every reader.
	Crashed
	// OpenForWrite: the file is marked open for writing, and this system
	// cannot tell whether its writer is alive (no open file description
	// locks).
	OpenForWrite
)

// String describes the state.
func (s WriteState) String() string {
	switch s {
	case Closed:
		return "closed"
	case Writing:
		return "being written"
	case Crashed:
		return "left open by a killed writer"
	case OpenForWrite:
		return "open for writing (being written, or its writer was killed)"
	}
	return fmt.Sprintf("WriteState(%d)", int(s))
}

// errLocked reports a file whose writer lock another writer holds.
var errLocked = errors.New("the file is being written by another process")

// File is a fokker-density file opened for reading.
type File struct {
	path    string
	id      hid
	swmr    bool
	state   WriteState
	limit   int // most values of an axis or of /time: a bound for damaged files
	header  Header
	version int
	kind    Kind

	names   []string
	shape   []int
	centres [][]float64
	edges   [][]float64
	bounds  [][2]string

	// Transient files: open datasets and the complete snapshots.
	time, density, mass, mean, cov hid
	times                          []float64
}

// Open opens the fokker-density file at path. It checks the format and
// format_version attributes and reads the grid and the times of the complete
// snapshots.
//
// A file still being written in SWMR mode, or whose SWMR writer was killed,
// is opened in SWMR-read mode (SWMR reports true); Refresh then picks up
// snapshots appended since. A file being written by a writer that has not
// called StartSWMR cannot be opened (HDF5 locks it).
func Open(path string) (*File, error) {
	return open(path, true)
}

// OpenAny opens any HDF5 file for reading numeric datasets and attributes
// (Dataset, Datasets, Attrs), such as a data set written by h5py for `fokker
// sgd`. It makes the same safety checks as Open (not HDF5, truncated,
// damaged) but not the fokker-density format checks; the grid and snapshot
// methods of the File are not meaningful.
func OpenAny(path string) (*File, error) {
	return open(path, false)
}

func open(path string, fokker bool) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("data: open %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("data: open %s: is a directory", path)
	}
	if fi.Size() == 0 || !isHDF5(path) {
		return nil, fmt.Errorf("data: open %s: not an HDF5 file", path)
	}
	if err := checkHeaps(path); err != nil {
		return nil, fmt.Errorf("data: open %s: the file is damaged: %w", path, err)
	}
	f := &File{path: path, id: -1, time: -1, density: -1, mass: -1, mean: -1, cov: -1, limit: vectorLimit(fi.Size())}
	f.id, err = fileOpen(path, false)
	if err != nil {
		msg := err.Error()
		var serr error
		if strings.Contains(msg, "already open for") || strings.Contains(msg, "truncated") {
			// Being written in SWMR mode, or left by a killed writer: the
			// superblock still says "open for writing", which only SWMR
			// readers accept. HDF5 checks the length of the file first:
			// the file of a writer killed between two flushes (or stopped
			// by a full disk) may end before the space it had reserved,
			// which SWMR readers accept too.
			var id hid
			if id, serr = fileOpen(path, true); serr == nil {
				f.id, f.swmr = id, true
			}
		}
		switch {
		case f.swmr:
			switch alive, known := writerAlive(path); {
			case !known:
				f.state = OpenForWrite
			case alive:
				f.state = Writing
			default:
				f.state = Crashed
			}
		case strings.Contains(msg, "already open for"):
			return nil, fmt.Errorf("data: open %s: %w (and in SWMR mode: %v)", path, err, serr)
		case strings.Contains(msg, "truncated"):
			return nil, fmt.Errorf("data: open %s: the file is truncated: %w", path, err)
		case strings.Contains(msg, "unable to lock"):
			return nil, fmt.Errorf("data: open %s: the file is being written by a writer not (yet) in SWMR mode: %w", path, err)
		default:
			return nil, fmt.Errorf("data: open %s: the file is damaged or not readable: %w", path, err)
		}
	}
	if !f.swmr {
		// Opened without SWMR: closed, or written by a writer of this
		// process (HDF5 shares an open file within a process).
		if alive, _ := writerAlive(path); alive {
			f.state = Writing
		}
	}
	if !fokker {
		return f, nil
	}
	if err := f.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("data: open %s: %w", path, err)
	}
	return f, nil
}

// Recover clears the "open for writing" flags that a writer killed in SWMR
// mode leaves in the file's superblock, like `h5clear -s`, so that readers
// not in SWMR mode (h5py without swmr=True, HDF5.jl, h5dump) can open the
// file again. The data are not touched. It refuses a file that a running
// writer holds (where the system can tell, see WriteState). A crash of
// Recover itself leaves the file as readable as before: at every moment
// the file is either marked for SWMR readers or not marked at all.
func Recover(path string) error {
	if !isHDF5(path) {
		return fmt.Errorf("data: recover %s: not an HDF5 file", path)
	}
	lock, err := lockWriter(path)
	if err != nil {
		return fmt.Errorf("data: recover %s: %w", path, err)
	}
	if lock != nil {
		defer lock.Close()
	}
	if err := fileClear(path); err != nil {
		return fmt.Errorf("data: recover %s: %w", path, err)
	}
	return nil
}

func (f *File) load() error {
	names, err := attrNames(f.id)
	if err != nil {
		return fmt.Errorf("root attributes: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	if !have[attrFormat] {
		return errors.New("not a fokker-density file (no root attribute \"format\")")
	}
	if v, err := attrRead(f.id, attrFormat); err != nil || v != Format {
		return fmt.Errorf("not a fokker-density file (root attribute format = %v)", v)
	}
	if !have[attrFormatVersion] {
		return errors.New("no root attribute format_version")
	}
	v, err := attrRead(f.id, attrFormatVersion)
	if err != nil {
		return fmt.Errorf("root attribute format_version: %w", err)
	}
	ver, ok := v.(int64)
	if !ok {
		return fmt.Errorf("root attribute format_version is %T, want an integer", v)
	}
	if ver != FormatVersion {
		return fmt.Errorf("format_version %d is not supported (this fokker reads version %d)", ver, FormatVersion)
	}
	f.version = int(ver)

	f.header.Extra = map[string]any{}
	for _, n := range names {
		if n == attrFormat || n == attrFormatVersion {
			continue
		}
		v, err := attrRead(f.id, n)
		if err != nil {
			if errors.Is(err, errAttrType) {
				continue // not representable; left out
			}
			return fmt.Errorf("root attribute %s: %w", n, err)
		}
		s, _ := v.(string)
		switch n {
		case attrAxes:
			switch a := v.(type) {
			case []string:
				f.names = a
			case string:
				f.names = []string{a}
			default:
				return fmt.Errorf("root attribute axes is %T, want strings", v)
			}
		case attrFokkerVersion:
			f.header.FokkerVersion = s
		case attrCreated:
			f.header.Created, _ = time.Parse(time.RFC3339, s)
		case attrCommand:
			f.header.Command = s
		case attrSpec:
			f.header.Spec = s
		case attrConvention:
			f.header.Convention = s
		case attrScheme:
			f.header.Scheme = s
		default:
			f.header.Extra[n] = v
		}
	}
	if len(f.names) == 0 {
		return errors.New("no root attribute axes")
	}

	for _, name := range f.names {
		c, err := f.vector(centresPath(name))
		if err != nil {
			return err
		}
		e, err := f.vector(edgesPath(name))
		if err != nil {
			return err
		}
		if len(e) != len(c)+1 {
			return fmt.Errorf("axis %s: %d edges for %d centres", name, len(e), len(c))
		}
		var b [2]string
		if id, err := dsOpen(f.id, edgesPath(name)); err == nil {
			for i, a := range []string{attrLower, attrUpper} {
				if v, err := attrRead(id, a); err == nil {
					b[i], _ = v.(string)
				}
			}
			dsClose(id)
		}
		f.centres = append(f.centres, c)
		f.edges = append(f.edges, e)
		f.bounds = append(f.bounds, b)
		f.shape = append(f.shape, len(c))
	}
	if n, ok := checkedProd(f.shape); !ok || n > math.MaxInt32 {
		return fmt.Errorf("grid of shape %v has more than %d cells", f.shape, math.MaxInt32)
	}
	// Faces must increase, boundaries be known: what Grid checks.
	if _, err := f.Grid(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "data: "+f.path+": "))
	}

	kd, err := exists(f.id, PathDensity)
	if err != nil {
		return err
	}
	ks, err := exists(f.id, PathStationary)
	if err != nil {
		return err
	}
	switch {
	case kd == objDataset:
		f.kind = Transient
		return f.openSeries()
	case ks == objDataset:
		f.kind = Steady
		return nil
	}
	return fmt.Errorf("neither %s nor %s in the file", PathDensity, PathStationary)
}

// vector reads a 1-D numeric dataset of grid or time size.
func (f *File) vector(path string) ([]float64, error) {
	shape, v, err := f.read(path, f.limit)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, fmt.Errorf("%s has shape %v, want one dimension", path, shape)
	}
	return v, nil
}

func (f *File) openSeries() error {
	d := len(f.names)
	for _, s := range []struct {
		path string
		id   *hid
		row  []int
	}{
		{PathTime, &f.time, nil},
		{PathDensity, &f.density, f.shape},
		{PathMass, &f.mass, nil},
		{PathMean, &f.mean, []int{d}},
		{PathCovariance, &f.cov, []int{d, d}},
	} {
		id, err := dsOpen(f.id, s.path)
		if err != nil {
			return fmt.Errorf("open %s: %w", s.path, err)
		}
		*s.id = id
		shape, _, class, err := dsInfo(id)
		if err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		if class != classFloat && class != classInteger {
			return fmt.Errorf("%s is not numeric", s.path)
		}
		if len(shape) != len(s.row)+1 || !slices.Equal(shape[1:], s.row) {
			return fmt.Errorf("%s has shape %v, want [n_snap %v]", s.path, shape, s.row)
		}
	}
	return f.count()
}

// count reads /time and sets the complete snapshots: the entries of /time
// without the trailing NaN (unwritten) ones, and no more than the rows of
// /density, /mass, /mean and /covariance.
func (f *File) count() error {
	shape, _, _, err := dsInfo(f.time)
	if err != nil {
		return fmt.Errorf("%s: %w", PathTime, err)
	}
	n := shape[0]
	if n > f.limit {
		return fmt.Errorf("%s has %d entries, implausibly many for a file of this size", PathTime, n)
	}
	for _, id := range []hid{f.density, f.mass, f.mean, f.cov} {
		s, _, _, err := dsInfo(id)
		if err != nil {
			return err
		}
		n = min(n, s[0])
	}
	t := resize(f.times, n)
	if n > 0 {
		if err := dsReadRows(f.time, 0, n, t); err != nil {
			return fmt.Errorf("read %s: %w", PathTime, err)
		}
	}
	for n > 0 && math.IsNaN(t[n-1]) {
		n--
	}
	f.times = t[:n]
	return nil
}

// Refresh makes snapshots appended since Open (or the last Refresh) visible.
// It matters for a file opened in SWMR mode, and for a file that a Writer of
// the same process is writing.
func (f *File) Refresh() error {
	if f.kind != Transient {
		return nil
	}
	if fi, err := os.Stat(f.path); err == nil {
		f.limit = max(f.limit, vectorLimit(fi.Size()))
	}
	if f.swmr {
		// /time first: every snapshot it counts is then in the others.
		for _, id := range []hid{f.time, f.density, f.mass, f.mean, f.cov} {
			if err := dsRefresh(id); err != nil {
				return fmt.Errorf("data: refresh %s: %w", f.path, err)
			}
		}
	}
	if err := f.count(); err != nil {
		return fmt.Errorf("data: refresh %s: %w", f.path, err)
	}
	return nil
}

// Close closes the file. Calling Close again does nothing.
func (f *File) Close() error {
	var errs []error
	for _, id := range []*hid{&f.time, &f.density, &f.mass, &f.mean, &f.cov} {
		if *id >= 0 {
			if err := dsClose(*id); err != nil {
				errs = append(errs, err)
			}
			*id = -1
		}
	}
	if f.id >= 0 {
		if err := fileClose(f.id); err != nil {
			errs = append(errs, err)
		}
		f.id = -1
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("data: close %s: %w", f.path, err)
	}
	return nil
}

// Path returns the path of the file.
func (f *File) Path() string { return f.path }

// SWMR reports whether the file was opened in SWMR-read mode, because it is
// being written or its writer was killed.
func (f *File) SWMR() bool { return f.swmr }

// State tells whether the file was being written when it was opened.
func (f *File) State() WriteState { return f.state }

// FormatVersion returns the format_version of the file.
func (f *File) FormatVersion() int { return f.version }

// Header returns the descriptive root attributes.
func (f *File) Header() Header { return f.header }

// Spec returns the TOML text of the problem (the root attribute spec).
func (f *File) Spec() string { return f.header.Spec }

// Kind returns what the file holds.
func (f *File) Kind() Kind { return f.kind }

// Dim returns the number of axes.
func (f *File) Dim() int { return len(f.names) }

// Names returns the axis names. The slice must not be modified.
func (f *File) Names() []string { return f.names }

// Shape returns the number of cells along each axis. The slice must not be
// modified.
func (f *File) Shape() []int { return f.shape }

// Len returns the number of cells of the grid.
func (f *File) Len() int { return prod(f.shape) }

// Centres returns the cell centres of axis k. The slice must not be modified.
func (f *File) Centres(k int) []float64 { return f.centres[k] }

// Edges returns the face coordinates of axis k. The slice must not be
// modified.
func (f *File) Edges(k int) []float64 { return f.edges[k] }

// Grid rebuilds the grid of the file, boundaries included.
func (f *File) Grid() (*grid.Grid, error) {
	axes := make([]grid.Axis, len(f.names))
	for k, name := range f.names {
		a := grid.Stretched(name, f.edges[k])
		for i, s := range f.bounds[k] {
			if s == "" {
				continue
			}
			b, err := grid.ParseBoundary(s)
			if err != nil {
				return nil, fmt.Errorf("data: %s: axis %s: %w", f.path, name, err)
			}
			if i == 0 {
				a.Lower = b
			} else {
				a.Upper = b
			}
		}
		axes[k] = a
	}
	g, err := grid.New(axes...)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", f.path, err)
	}
	return g, nil
}

// Snapshots returns the number of complete snapshots.
func (f *File) Snapshots() int { return len(f.times) }

// Times returns the times of the complete snapshots. The slice must not be
// modified.
func (f *File) Times() []float64 { return f.times }

func (f *File) snapshot(i int) error {
	if f.kind != Transient {
		return fmt.Errorf("data: %s: steady file has no snapshots", f.path)
	}
	if i < 0 || i >= len(f.times) {
		return fmt.Errorf("data: %s: snapshot %d out of range [0, %d)", f.path, i, len(f.times))
	}
	return nil
}

// Density reads the density of snapshot i into dst, which is resized (and
// reallocated only if too small), and returns it.
func (f *File) Density(dst []float64, i int) ([]float64, error) {
	if err := f.snapshot(i); err != nil {
		return dst, err
	}
	dst = resize(dst, f.Len())
	if err := dsReadRows(f.density, i, 1, dst); err != nil {
		return dst, fmt.Errorf("data: %s: read snapshot %d of %s: %w", f.path, i, PathDensity, err)
	}
	return dst, nil
}

// Moments reads the mass, mean and covariance of snapshot i.
func (f *File) Moments(i int) (Moments, error) {
	var m Moments
	if err := f.snapshot(i); err != nil {
		return m, err
	}
	d := f.Dim()
	mass := make([]float64, 1)
	m.Mean = make([]float64, d)
	m.Cov = make([]float64, d*d)
	for _, r := range []struct {
		id   hid
		path string
		v    []float64
	}{{f.mass, PathMass, mass}, {f.mean, PathMean, m.Mean}, {f.cov, PathCovariance, m.Cov}} {
		if err := dsReadRows(r.id, i, 1, r.v); err != nil {
			return m, fmt.Errorf("data: %s: read snapshot %d of %s: %w", f.path, i, r.path, err)
		}
	}
	m.Mass = mass[0]
	return m, nil
}

// Stationary reads the stationary density of a steady file into dst (resized
// as in Density) and returns it with the residual of the solve.
func (f *File) Stationary(dst []float64) ([]float64, float64, error) {
	if f.kind != Steady {
		return dst, 0, fmt.Errorf("data: %s: transient file has no %s", f.path, PathStationary)
	}
	id, err := dsOpen(f.id, PathStationary)
	if err != nil {
		return dst, 0, fmt.Errorf("data: %s: open %s: %w", f.path, PathStationary, err)
	}
	defer dsClose(id)
	shape, _, _, err := dsInfo(id)
	if err != nil || !slices.Equal(shape, f.shape) {
		return dst, 0, fmt.Errorf("data: %s: %s has shape %v, want %v (%v)", f.path, PathStationary, shape, f.shape, err)
	}
	dst = resize(dst, f.Len())
	if err := dsReadAll(id, dst); err != nil {
		return dst, 0, fmt.Errorf("data: %s: read %s: %w", f.path, PathStationary, err)
	}
	res := math.NaN()
	if v, err := attrRead(id, AttrResidual); err == nil {
		if r, ok := v.(float64); ok {
			res = r
		}
	}
	return dst, res, nil
}

// StationaryMoments reads the mass, mean and covariance of the stationary
// density of a steady file.
func (f *File) StationaryMoments() (Moments, error) {
	var m Moments
	if f.kind != Steady {
		return m, fmt.Errorf("data: %s: transient file has no stationary moments", f.path)
	}
	d := f.Dim()
	for _, r := range []struct {
		path string
		n    int
		dst  *[]float64
	}{{PathMass, 1, nil}, {PathMean, d, &m.Mean}, {PathCovariance, d * d, &m.Cov}} {
		_, v, err := f.Dataset(r.path)
		if err != nil {
			return m, err
		}
		if len(v) != r.n {
			return m, fmt.Errorf("data: %s: %s has %d values, want %d", f.path, r.path, len(v), r.n)
		}
		if r.dst == nil {
			m.Mass = v[0]
		} else {
			*r.dst = v
		}
	}
	return m, nil
}

// Dataset reads the numeric dataset at path, converted to float64, with its
// shape (empty for a scalar). In SWMR mode the dataset is refreshed first, so
// a per-snapshot dataset may have rows beyond Snapshots(); ignore them.
func (f *File) Dataset(path string) (shape []int, v []float64, err error) {
	shape, v, err = f.read(path, maxRead)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", f.path, err)
	}
	return shape, v, nil
}

// maxRead bounds the values Dataset reads (2 GiB).
const maxRead = 1 << 28

// read reads the numeric dataset at path, refusing more than limit values.
func (f *File) read(path string, limit int) (shape []int, v []float64, err error) {
	p, err := cleanPath(path)
	if err != nil {
		return nil, nil, err
	}
	k, err := exists(f.id, p)
	if err != nil || k != objDataset {
		return nil, nil, fmt.Errorf("no dataset %s", p)
	}
	id, err := dsOpen(f.id, p)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", p, err)
	}
	defer dsClose(id)
	if f.swmr {
		if err := dsRefresh(id); err != nil {
			return nil, nil, fmt.Errorf("refresh %s: %w", p, err)
		}
	}
	shape, _, class, err := dsInfo(id)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p, err)
	}
	if class != classFloat && class != classInteger {
		return nil, nil, fmt.Errorf("%s is not numeric", p)
	}
	if size, ok := checkedProd(shape); !ok || size > limit {
		return nil, nil, fmt.Errorf("%s has shape %v, more than the %d values this reader reads at once", p, shape, limit)
	}
	v = make([]float64, prod(shape))
	if len(v) > 0 {
		if err := dsReadAll(id, v); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	return shape, v, nil
}

// DatasetInfo describes a dataset of a file.
type DatasetInfo struct {
	Path  string
	Shape []int
	// Dims holds the name of the dimension scale of each axis, "" where
	// there is none.
	Dims []string
}

// Datasets lists every dataset in the file, sorted by path. A dataset with
// two names (the hard links /x and /grid/x) is listed under both.
func (f *File) Datasets() ([]DatasetInfo, error) {
	paths, err := datasetPaths(f.id)
	if err != nil {
		return nil, fmt.Errorf("data: %s: list datasets: %w", f.path, err)
	}
	slices.Sort(paths)
	out := make([]DatasetInfo, 0, len(paths))
	for _, p := range paths {
		id, err := dsOpen(f.id, p)
		if err != nil {
			return nil, fmt.Errorf("data: %s: open %s: %w", f.path, p, err)
		}
		shape, _, _, err := dsInfo(id)
		if err != nil {
			dsClose(id)
			return nil, fmt.Errorf("data: %s: %s: %w", f.path, p, err)
		}
		dims := make([]string, len(shape))
		for k := range dims {
			dims[k] = dimName(id, k)
		}
		if err := dsClose(id); err != nil {
			return nil, fmt.Errorf("data: %s: close %s: %w", f.path, p, err)
		}
		out = append(out, DatasetInfo{Path: p, Shape: shape, Dims: dims})
	}
	return out, nil
}

// Attrs reads the attributes of the object at path ("/" for the root group)
// that are strings, integers or floats (see Header.Extra for the Go types).
func (f *File) Attrs(path string) (map[string]any, error) {
	if path != "/" {
		p, err := cleanPath(path)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", f.path, err)
		}
		path = p
	}
	k, err := exists(f.id, path)
	if err != nil || k == objNone {
		return nil, fmt.Errorf("data: %s: no object %s", f.path, path)
	}
	id, err := objOpen(f.id, path)
	if err != nil {
		return nil, fmt.Errorf("data: %s: open %s: %w", f.path, path, err)
	}
	defer objClose(id)
	names, err := attrNames(id)
	if err != nil {
		return nil, fmt.Errorf("data: %s: attributes of %s: %w", f.path, path, err)
	}
	m := make(map[string]any, len(names))
	for _, n := range names {
		v, err := attrRead(id, n)
		if errors.Is(err, errAttrType) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("data: %s: attribute %s of %s: %w", f.path, n, path, err)
		}
		m[n] = v
	}
	return m, nil
}

// vectorLimit bounds the length of the axes and of /time of a file of the
// given size: a file stores them (fokker uncompressed, 8 bytes a value), so
// a damaged file claiming far more must not make the reader allocate them.
func vectorLimit(size int64) int {
	return int(max(1<<16, min(size, 1<<40)))
}

// checkedProd returns the product of s and whether it fits in an int.
func checkedProd(s []int) (int, bool) {
	n := 1
	for _, v := range s {
		if v < 0 || (v > 0 && n > math.MaxInt/v) {
			return 0, false
		}
		n *= v
	}
	return n, true
}
