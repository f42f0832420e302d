package sgd

import (
	"errors"
	"fmt"
	"slices"

	"github.com/fokkerplanck/fokker/expression"
)

// Loss is a compiled per-sample loss u(theta, X) with its symbolic gradient
// and Hessian with respect to theta. Its variables are, in slot order, the
// parameters theta (the grid axes), then the data columns; named constants
// are bound at compilation. A Loss is immutable and safe for concurrent use.
type Loss struct {
	src     string
	theta   []string
	columns []string
	nvars   int

	// U is u(theta, X).
	U *expression.Expr
	// Grad[k] is ∂u/∂theta_k.
	Grad []*expression.Expr
	// Hess[SymIndex(i, j)] is ∂²u/∂theta_i∂theta_j, i ≤ j.
	Hess []*expression.Expr
}

// NewLoss compiles the loss src over the parameters theta and the data
// columns, with the constants params substituted, and differentiates it.
// Errors in src are *expression.Error values.
func NewLoss(src string, theta, columns []string, params map[string]float64) (*Loss, error) {
	if len(theta) == 0 {
		return nil, errors.New("sgd: a loss needs at least one parameter")
	}
	pnames := make([]string, 0, len(params))
	for p := range params {
		pnames = append(pnames, p)
	}
	slices.Sort(pnames)
	vars := append(append(slices.Clone(theta), columns...), pnames...)
	u, err := expression.Compile(src, vars)
	if err != nil {
		return nil, err
	}
	if len(params) > 0 {
		if u, err = u.Bind(params); err != nil {
			return nil, err
		}
	}
	d := len(theta)
	l := &Loss{src: src, theta: slices.Clone(theta), columns: slices.Clone(columns), nvars: len(vars), U: u}
	l.Grad = make([]*expression.Expr, d)
	for k, name := range theta {
		if l.Grad[k], err = u.Derivative(name); err != nil {
			return nil, err
		}
	}
	l.Hess = make([]*expression.Expr, d*(d+1)/2)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			if l.Hess[SymIndex(d, i, j)], err = l.Grad[i].Derivative(theta[j]); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

// SymIndex returns the position of entry (i, j) of a symmetric d×d matrix
// stored as its upper triangle row by row.
func SymIndex(d, i, j int) int {
	if i > j {
		i, j = j, i
	}
	return i*d - i*(i-1)/2 + (j - i)
}

// Dim returns the number of parameters.
func (l *Loss) Dim() int { return len(l.theta) }

// Params returns the parameter (axis) names.
func (l *Loss) Params() []string { return l.theta }

// Columns returns the data column names the loss was compiled with.
func (l *Loss) Columns() []string { return l.columns }

// NumVars returns the number of expression variables: parameters, columns,
// then the bound constants (unused slots).
func (l *Loss) NumVars() int { return l.nvars }

// String returns the loss as given.
func (l *Loss) String() string { return l.src }

// Quadratic reports whether the loss is a polynomial of degree at most two
// in theta: its Hessian does not depend on theta.
func (l *Loss) Quadratic() bool {
	for _, h := range l.Hess {
		for _, name := range l.theta {
			if h.Uses(name) {
				return false
			}
		}
	}
	return true
}

// vars fills v (length NumVars) with theta and row i of the columns cols.
func (l *Loss) vars(v, theta []float64, cols [][]float64, i int) []float64 {
	copy(v, theta)
	for j, c := range cols {
		v[len(theta)+j] = c[i]
	}
	return v
}

// columnsOf returns the data columns in the order the loss expects.
func (l *Loss) columnsOf(d *Data) ([][]float64, error) {
	cols := make([][]float64, len(l.columns))
	for j, name := range l.columns {
		if cols[j] = d.Column(name); cols[j] == nil {
			return nil, fmt.Errorf("sgd: data set has no column %q", name)
		}
	}
	return cols, nil
}
