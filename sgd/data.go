package sgd

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/expression"
)

// Data is a data set: N rows of named numeric columns. Cols[j][i] is
// column j of row i. A Data is not modified after construction.
type Data struct {
	Names []string
	Cols  [][]float64
}

// NewData checks the columns (equal lengths, at least one row, finite
// values, distinct names) and returns the data set. The slices are kept,
// not copied.
func NewData(names []string, cols [][]float64) (*Data, error) {
	if len(names) != len(cols) {
		return nil, fmt.Errorf("sgd: %d column names for %d columns", len(names), len(cols))
	}
	if len(cols) == 0 {
		return nil, errors.New("sgd: data set has no columns")
	}
	n := len(cols[0])
	if n == 0 {
		return nil, errors.New("sgd: data set has no rows")
	}
	seen := map[string]bool{}
	for j, c := range cols {
		if seen[names[j]] {
			return nil, fmt.Errorf("sgd: duplicate column %q", names[j])
		}
		seen[names[j]] = true
		if len(c) != n {
			return nil, fmt.Errorf("sgd: column %q has %d rows, column %q has %d", names[j], len(c), names[0], n)
		}
		for i, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("sgd: column %q, row %d is %v", names[j], i+1, v)
			}
		}
	}
	return &Data{Names: names, Cols: cols}, nil
}

// Len returns the number of rows N.
func (d *Data) Len() int { return len(d.Cols[0]) }

// Column returns the column called name, or nil.
func (d *Data) Column(name string) []float64 {
	if j := slices.Index(d.Names, name); j >= 0 {
		return d.Cols[j]
	}
	return nil
}

// Matrix returns the data row-major, N×m, for writing.
func (d *Data) Matrix() []float64 {
	n, m := d.Len(), len(d.Cols)
	out := make([]float64, n*m)
	for j, c := range d.Cols {
		for i, v := range c {
			out[i*m+j] = v
		}
	}
	return out
}

// ReadCSV reads a data set from CSV text: a header line naming the columns,
// then one row of numbers per line. Blank lines and lines starting with #
// are skipped; fields may be padded with spaces.
func ReadCSV(r io.Reader) (*Data, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("sgd: CSV data: empty file (want a header line naming the columns)")
	}
	if err != nil {
		return nil, fmt.Errorf("sgd: CSV data: %w", err)
	}
	names := make([]string, len(header))
	for j, h := range header {
		names[j] = strings.TrimSpace(h)
		if names[j] == "" {
			return nil, fmt.Errorf("sgd: CSV data: header: column %d has no name", j+1)
		}
	}
	cols := make([][]float64, len(names))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sgd: CSV data: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for j, f := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil, fmt.Errorf("sgd: CSV data: line %d, column %q: %q is not a number", line, names[j], f)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("sgd: CSV data: line %d, column %q: %v is not finite", line, names[j], v)
			}
			cols[j] = append(cols[j], v)
		}
	}
	return NewData(names, cols)
}

// LoadCSV reads the CSV file at path (see ReadCSV).
func LoadCSV(path string) (*Data, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sgd: data: %w", err)
	}
	defer f.Close()
	d, err := ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return d, nil
}

// LoadHDF5 reads the 2-D dataset (rows by columns) at dataset in the HDF5
// file path. The column names are names if given, else the dataset's
// string-array attribute "columns".
//
// Any HDF5 file works (h5py's, or the /sgd/data of an earlier fokker sgd
// run); it is read through package data's safe reader (data.OpenAny).
func LoadHDF5(path, dataset string, names []string) (*Data, error) {
	f, err := data.OpenAny(path)
	if err != nil {
		return nil, fmt.Errorf("sgd: data: %w", err)
	}
	defer f.Close()
	shape, v, err := f.Dataset(dataset)
	if err != nil {
		return nil, fmt.Errorf("sgd: data: %w", err)
	}
	if len(shape) != 2 {
		return nil, fmt.Errorf("sgd: data: %s:%s has shape %v, want a 2-D dataset (rows, columns)", path, dataset, shape)
	}
	if len(names) == 0 {
		attrs, err := f.Attrs(dataset)
		if err != nil {
			return nil, fmt.Errorf("sgd: data: %w", err)
		}
		switch a := attrs["columns"].(type) {
		case []string:
			names = a
		case string:
			names = []string{a}
		default:
			return nil, fmt.Errorf("sgd: data: %s:%s has no string attribute \"columns\": name the columns with sgd.columns", path, dataset)
		}
	}
	n, m := shape[0], shape[1]
	if len(names) != m {
		return nil, fmt.Errorf("sgd: data: %s:%s has %d columns, %d names given", path, dataset, m, len(names))
	}
	cols := make([][]float64, m)
	for j := range cols {
		cols[j] = make([]float64, n)
		for i := range cols[j] {
			cols[j][i] = v[i*m+j]
		}
	}
	return NewData(slices.Clone(names), cols)
}

// ColumnError is an error in one generated column.
type ColumnError struct {
	Column string
	Err    error
}

func (e *ColumnError) Error() string { return e.Err.Error() }
func (e *ColumnError) Unwrap() error { return e.Err }

// Generate draws a data set of n rows. columns maps each column name to an
// expression in the other columns, the constants params and the random
// draws normal(mean, sd) and uniform(lo, hi), whose arguments are
// expressions too. Columns are evaluated in dependency order (ties
// alphabetical), row by row; within a column the draws are taken left to
// right, each a fresh variate, from one stream rand.NewPCG(seed, 0). The
// result is a function of (n, seed, columns, params) only.
func Generate(n int, seed uint64, columns map[string]string, params map[string]float64) (*Data, error) {
	if n < 1 {
		return nil, fmt.Errorf("sgd: generate: n = %d, want at least 1", n)
	}
	names := make([]string, 0, len(columns))
	for c := range columns {
		names = append(names, c)
	}
	slices.Sort(names)
	pnames := make([]string, 0, len(params))
	for p := range params {
		pnames = append(pnames, p)
	}
	slices.Sort(pnames)
	type column struct {
		name  string
		expr  *expression.Expr
		draws []drawKind
	}
	cols := make([]*column, len(names))
	for j, name := range names {
		rewritten, draws, err := rewriteDraws(columns[name])
		if err != nil {
			return nil, &ColumnError{name, err}
		}
		vars := append(slices.Clone(names), pnames...)
		for k := range draws {
			vars = append(vars, drawName(k))
		}
		e, err := expression.Compile(rewritten, vars)
		if err != nil {
			return nil, &ColumnError{name, err}
		}
		if len(params) > 0 {
			if e, err = e.Bind(params); err != nil {
				return nil, &ColumnError{name, err}
			}
		}
		if e.Uses(name) {
			return nil, &ColumnError{name, fmt.Errorf("column %q refers to itself", name)}
		}
		cols[j] = &column{name: name, expr: e, draws: draws}
	}
	// Dependency order: repeatedly take the first column (alphabetically)
	// whose dependencies are all done.
	var order []int
	done := make([]bool, len(cols))
	for len(order) < len(cols) {
		progress := false
		for j, c := range cols {
			if done[j] {
				continue
			}
			ready := true
			for k, o := range cols {
				if k != j && !done[k] && c.expr.Uses(o.name) {
					ready = false
					break
				}
			}
			if ready {
				order = append(order, j)
				done[j] = true
				progress = true
				break
			}
		}
		if !progress {
			var left []string
			for j, c := range cols {
				if !done[j] {
					left = append(left, c.name)
				}
			}
			return nil, &ColumnError{left[0], fmt.Errorf("columns %s depend on each other in a cycle", strings.Join(left, ", "))}
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([][]float64, len(cols))
	for j := range out {
		out[j] = make([]float64, n)
	}
	nv := len(names) + len(pnames)
	maxDraws := 0
	for _, c := range cols {
		maxDraws = max(maxDraws, len(c.draws))
	}
	v := make([]float64, nv+maxDraws)
	for i := 0; i < n; i++ {
		for _, j := range order {
			c := cols[j]
			for k, dk := range c.draws {
				if dk == drawNormal {
					v[nv+k] = rng.NormFloat64()
				} else {
					v[nv+k] = rng.Float64()
				}
			}
			x := c.expr.Eval(v[:nv+len(c.draws)])
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, &ColumnError{c.name, fmt.Errorf("is %v in row %d", x, i+1)}
			}
			v[j] = x
			out[j][i] = x
		}
	}
	return NewData(names, out)
}

type drawKind uint8

const (
	drawNormal drawKind = iota
	drawUniform
)

func drawName(k int) string { return fmt.Sprintf("_draw%d", k+1) }

// rewriteDraws replaces every call normal(a, b) by ((a) + (b)*_drawK) and
// uniform(a, b) by ((a) + ((b) - (a))*_drawK), with _drawK a standard
// normal or a uniform variate on [0, 1), numbered left to right.
func rewriteDraws(src string) (string, []drawKind, error) {
	var draws []drawKind
	var rec func(s string) (string, error)
	rec = func(s string) (string, error) {
		var b strings.Builder
		i := 0
		for i < len(s) {
			kind, name, ok := drawAt(s, i)
			if !ok {
				b.WriteByte(s[i])
				i++
				continue
			}
			open := i + len(name)
			for open < len(s) && (s[open] == ' ' || s[open] == '\t') {
				open++
			}
			args, end, err := splitCall(s, open)
			if err != nil {
				return "", fmt.Errorf("%s(…) at column %d: %v", name, i+1, err)
			}
			if len(args) != 2 {
				return "", fmt.Errorf("%s takes 2 arguments, got %d, at column %d in %q", name, len(args), i+1, src)
			}
			var a [2]string
			for k := range args {
				if a[k], err = rec(args[k]); err != nil {
					return "", err
				}
			}
			v := drawName(len(draws))
			draws = append(draws, kind)
			if kind == drawNormal {
				fmt.Fprintf(&b, "((%s) + (%s)*%s)", a[0], a[1], v)
			} else {
				fmt.Fprintf(&b, "((%s) + ((%s) - (%s))*%s)", a[0], a[1], a[0], v)
			}
			i = end
		}
		return b.String(), nil
	}
	out, err := rec(src)
	return out, draws, err
}

// drawAt reports whether a call of normal or uniform starts at s[i].
func drawAt(s string, i int) (drawKind, string, bool) {
	if i > 0 && isIdent(s[i-1]) {
		return 0, "", false
	}
	for _, c := range []struct {
		name string
		kind drawKind
	}{{"normal", drawNormal}, {"uniform", drawUniform}} {
		if strings.HasPrefix(s[i:], c.name) {
			j := i + len(c.name)
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j < len(s) && s[j] == '(' && (i+len(c.name) == len(s) || !isIdent(s[i+len(c.name)])) {
				return c.kind, c.name, true
			}
		}
	}
	return 0, "", false
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// splitCall splits the argument list starting at the '(' at s[open] into
// its top-level arguments and returns the index after the closing ')'.
func splitCall(s string, open int) ([]string, int, error) {
	depth := 0
	start := open + 1
	var args []string
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				return args, i + 1, nil
			}
		case ',':
			if depth == 1 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return nil, 0, errors.New("unbalanced parentheses")
}
