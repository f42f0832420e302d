package data

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Format and FormatVersion identify the layout in the root attributes
// "format" and "format_version". Readers refuse files with another format or
// a format_version they do not know.
const (
	Format        = "fokker-density"
	FormatVersion = 1
)

// Paths and dimension names of the layout. See docs/format.md.
const (
	PathTime       = "/time"
	PathDensity    = "/density"
	PathMass       = "/mass"
	PathMean       = "/mean"
	PathCovariance = "/covariance"
	PathStationary = "/stationary"
	PathGrid       = "/grid"

	DimTime  = "time"  // snapshot dimension, scale /time
	DimAxis  = "axis"  // rows of /mean and /covariance, labelled with the axis names
	DimAxis2 = "axis2" // columns of /covariance, labelled with the axis names

	// AttrResidual is the attribute of /stationary holding the residual of
	// the steady solve.
	AttrResidual = "residual"
)

// Kind tells what a file holds.
type Kind int

const (
	// Transient files hold snapshots of a time-dependent density: /time,
	// /density, /mass, /mean and /covariance, all indexed by snapshot.
	Transient Kind = iota
	// Steady files hold one stationary density, /stationary, with its
	// /mass, /mean and /covariance.
	Steady
)

// String returns "transient" or "steady".
func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Steady:
		return "steady"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Header holds the descriptive root attributes of a file.
type Header struct {
	FokkerVersion string    // fokker_version; "" is written as "devel"
	Created       time.Time // created, RFC 3339; the zero time is written as the time of NewWriter
	Command       string    // command: the command line that made the file
	Spec          string    // spec: the full TOML text of the problem
	Convention    string    // convention: e.g. "ito"
	Scheme        string    // scheme: the discretisation / time stepper

	// Extra holds further root attributes. On write, values may be string,
	// float64, int, int64, bool or slices of string, float64, int, int64.
	// On read, every root attribute that is not one of the above or format,
	// format_version or axes lands here: strings as string or []string,
	// integers as int64 or []int64, floats as float64 or []float64.
	Extra map[string]any
}

// Root attribute names.
const (
	attrFormat        = "format"
	attrFormatVersion = "format_version"
	attrFokkerVersion = "fokker_version"
	attrCreated       = "created"
	attrCommand       = "command"
	attrSpec          = "spec"
	attrConvention    = "convention"
	attrScheme        = "scheme"
	attrAxes          = "axes"

	// On /grid/<axis>_edges: boundary kinds of the two sides.
	attrLower = "lower"
	attrUpper = "upper"
)

var rootAttrs = map[string]bool{
	attrFormat: true, attrFormatVersion: true, attrFokkerVersion: true, attrCreated: true,
	attrCommand: true, attrSpec: true, attrConvention: true, attrScheme: true, attrAxes: true,
}

// reserved are the names that the layout uses, or keeps for later use, in the
// root group; no axis or dimension may take them.
var reserved = map[string]bool{
	"time": true, "density": true, "mass": true, "mean": true, "covariance": true,
	"stationary": true, "grid": true, "axis": true, "axis2": true, "exact": true,
	"particles": true, "sgd": true, "metrics": true, "residual": true,
	"checkpoint": true,
}

var identRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// checkName reports whether name can be an axis or dimension name: an
// identifier (so that it is a valid netCDF and Python name) that the layout
// does not use.
func checkName(name string) error {
	if !identRE.MatchString(name) {
		return fmt.Errorf("name %q is not an identifier (letters, digits and _, starting with a letter)", name)
	}
	if reserved[name] {
		return fmt.Errorf("name %q is reserved by the file layout", name)
	}
	if strings.HasSuffix(name, "_edges") {
		return fmt.Errorf("name %q may not end in _edges", name)
	}
	return nil
}

// edgesPath returns the path of the face coordinates of an axis.
func edgesPath(axis string) string { return PathGrid + "/" + axis + "_edges" }

// centresPath returns the documented path of the cell centres of an axis.
func centresPath(axis string) string { return PathGrid + "/" + axis }

// cleanPath returns p as an absolute HDF5 path, or an error if p is empty,
// has empty or dot components.
func cleanPath(p string) (string, error) {
	q := strings.TrimPrefix(p, "/")
	if q == "" {
		return "", fmt.Errorf("empty dataset path %q", p)
	}
	for _, c := range strings.Split(q, "/") {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("invalid dataset path %q", p)
		}
	}
	return "/" + q, nil
}

// maxChunkBytes bounds the size of one chunk (HDF5's hard limit is 4 GiB).
const maxChunkBytes = 1 << 30

// gridChunk returns the chunk shape for a dataset whose rows have the given
// shape: one row per chunk, the leading row dimensions halved while the chunk
// exceeds maxChunkBytes. lead is the number of leading (time) dimensions.
func gridChunk(lead int, row []int) []int {
	c := make([]int, lead+len(row))
	for k := 0; k < lead; k++ {
		c[k] = 1
	}
	copy(c[lead:], row)
	for k := lead; k < len(c); k++ {
		if c[k] == 0 {
			c[k] = 1
		}
	}
	for k := lead; k < len(c) && chunkBytes(c) > maxChunkBytes; {
		if c[k] == 1 {
			k++
			continue
		}
		c[k] = (c[k] + 1) / 2
	}
	return c
}

// seriesChunk returns the chunk shape of an appendable dataset of small rows:
// as many rows as fit in 64 KiB, at most 1024 and at least one.
func seriesChunk(row []int) []int {
	n := 8
	for _, v := range row {
		n *= max(v, 1)
	}
	rows := min(max(64<<10/n, 1), 1024)
	return append([]int{rows}, gridChunk(0, row)...)
}

func chunkBytes(c []int) int {
	n := 8
	for _, v := range c {
		n *= v
	}
	return n
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}
