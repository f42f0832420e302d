package solvers

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/james-bowman/sparse"
)

// Status says how a solve ended.
type Status int

const (
	// Converged means the relative residual reached the tolerance.
	Converged Status = iota
	// MaxIterations means the iteration limit was reached first.
	MaxIterations
	// Breakdown means the Krylov recurrence broke down (a zero divisor).
	Breakdown
	// NotFinite means a NaN or Inf appeared.
	NotFinite
	// Singular means a direct factorisation met a zero pivot.
	Singular
)

// String returns a short description of s.
func (s Status) String() string {
	switch s {
	case Converged:
		return "converged"
	case MaxIterations:
		return "iteration limit reached"
	case Breakdown:
		return "Krylov breakdown"
	case NotFinite:
		return "NaN or Inf in the iteration"
	case Singular:
		return "singular matrix"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Err returns nil for Converged and an error describing s otherwise.
func (s Status) Err() error {
	if s == Converged {
		return nil
	}
	return errors.New("solvers: " + s.String())
}

// LinearResult reports a linear solve.
type LinearResult struct {
	Status     Status
	Iterations int
	// Residual is the true relative residual ||b − A x||₂ / ||b||₂,
	// recomputed from x at the end.
	Residual float64
	Duration time.Duration
}

// LinearSolver solves A x = b for a fixed matrix A, set by Factor.
type LinearSolver interface {
	// Factor prepares the solver for the values now in A (same sparsity
	// pattern as before, or a new one). It must be called again whenever the
	// values of A change.
	Factor(a *sparse.CSR) error
	// Solve writes the solution of A x = b into x, using x's contents as the
	// initial guess where the method is iterative.
	Solve(x, b []float64) (LinearResult, error)
}

// Method selects a linear solver.
type Method int

const (
	// Auto is Direct for tridiagonal (1D) systems and BiCGSTAB with ILU(0)
	// otherwise, falling back to GMRES if BiCGSTAB fails.
	Auto Method = iota
	// Direct is the tridiagonal (Thomas) algorithm, with Sherman–Morrison for
	// cyclic systems. It fails on other sparsity patterns.
	Direct
	// BiCGSTAB is van der Vorst's stabilised bi-conjugate gradient method.
	BiCGSTAB
	// GMRES is restarted GMRES(m).
	GMRES
)

// String returns "auto", "direct", "bicgstab" or "gmres".
func (m Method) String() string {
	switch m {
	case Auto:
		return "auto"
	case Direct:
		return "direct"
	case BiCGSTAB:
		return "bicgstab"
	case GMRES:
		return "gmres"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ParseMethod returns the method named s.
func ParseMethod(s string) (Method, error) {
	switch s {
	case "auto", "":
		return Auto, nil
	case "direct", "tridiagonal", "thomas":
		return Direct, nil
	case "bicgstab":
		return BiCGSTAB, nil
	case "gmres":
		return GMRES, nil
	}
	return 0, fmt.Errorf("solvers: unknown linear solver %q (want auto, direct, bicgstab or gmres)", s)
}

// PreconditionerKind selects a preconditioner for the Krylov methods.
type PreconditionerKind int

const (
	// AutoPreconditioner is ILU0 for systems of fewer than 2^15 unknowns
	// and MG above, when the grid shape is known.
	AutoPreconditioner PreconditionerKind = iota
	// ILU0 is the incomplete LU factorisation with the pattern of A
	// (modified ILU(0) for diffusion-dominated M-matrices of axis-only
	// stencils: see AxisILU0).
	ILU0
	// Jacobi is the inverse diagonal.
	Jacobi
	// NoPreconditioner is the identity.
	NoPreconditioner
	// MG is aggregation multigrid (Multigrid); it needs
	// LinearSettings.Shape.
	MG
)

// String returns "ilu0", "jacobi" or "none".
func (p PreconditionerKind) String() string {
	switch p {
	case AutoPreconditioner:
		return "auto"
	case ILU0:
		return "ilu0"
	case Jacobi:
		return "jacobi"
	case NoPreconditioner:
		return "none"
	case MG:
		return "multigrid"
	}
	return fmt.Sprintf("PreconditionerKind(%d)", int(p))
}

// ParsePreconditioner returns the preconditioner named s.
func ParsePreconditioner(s string) (PreconditionerKind, error) {
	switch s {
	case "auto", "":
		return AutoPreconditioner, nil
	case "ilu0", "ilu":
		return ILU0, nil
	case "jacobi":
		return Jacobi, nil
	case "none":
		return NoPreconditioner, nil
	case "multigrid", "mg", "amg":
		return MG, nil
	}
	return 0, fmt.Errorf("solvers: unknown preconditioner %q (want auto, ilu0, multigrid, jacobi or none)", s)
}

// LinearSettings configures linear solves. A nil *LinearSettings means the
// zero value, whose every field documents its default.
type LinearSettings struct {
	// Method (zero value: Auto).
	Method Method
	// Preconditioner for Krylov methods (zero value: AutoPreconditioner).
	Preconditioner PreconditionerKind
	// Tolerance on the relative residual (zero value: 1e-10).
	Tolerance float64
	// MaxIterations (zero value: 10000; for GMRES, inner iterations in total).
	MaxIterations int
	// Restart is GMRES's Krylov subspace size (zero value: 50).
	Restart int
	// Shape is the grid shape of the unknowns (row-major), needed by the
	// multigrid preconditioner. Stationary and Stepper set it from the
	// operator's grid.
	Shape []int
}

func (s *LinearSettings) tol() float64 {
	if s == nil || s.Tolerance <= 0 {
		return 1e-10
	}
	return s.Tolerance
}

func (s *LinearSettings) maxIter() int {
	if s == nil || s.MaxIterations <= 0 {
		return 10000
	}
	return s.MaxIterations
}

func (s *LinearSettings) restart() int {
	if s == nil || s.Restart <= 0 {
		return 50
	}
	return s.Restart
}

// NewLinearSolver returns a solver for matrices with the pattern of a,
// factored for the values of a.
func NewLinearSolver(a *sparse.CSR, s *LinearSettings) (LinearSolver, error) {
	var set LinearSettings
	if s != nil {
		set = *s
	}
	var ls LinearSolver
	switch set.Method {
	case Direct:
		ls = &Tridiagonal{}
	case Auto:
		if isTridiagonal(a) {
			ls = &Tridiagonal{}
		} else {
			ls = &Krylov{Settings: set, fallback: true}
		}
	case BiCGSTAB, GMRES:
		ls = &Krylov{Settings: set}
	default:
		return nil, fmt.Errorf("solvers: invalid method %v", set.Method)
	}
	if err := ls.Factor(a); err != nil {
		return nil, err
	}
	return ls, nil
}

// isTridiagonal reports whether every row of a has entries only within one
// of the diagonal, or in the two corners (cyclic tridiagonal).
func isTridiagonal(a *sparse.CSR) bool {
	r := a.RawMatrix()
	n := r.I
	for i := 0; i < n; i++ {
		for k := r.Indptr[i]; k < r.Indptr[i+1]; k++ {
			j := r.Ind[k]
			dj := j - i
			if dj >= -1 && dj <= 1 {
				continue
			}
			if (i == 0 && j == n-1) || (i == n-1 && j == 0) {
				continue
			}
			return false
		}
	}
	return true
}

// mulVec computes dst = A x on the raw CSR arrays, overwriting dst, split
// over GOMAXPROCS goroutines for large matrices (rows are independent, so the
// result does not depend on the split).
func mulVec(dst []float64, a *sparse.CSR, x []float64) {
	r := a.RawMatrix()
	parallelRange(len(dst), func(lo, hi int) { mulRows(dst, r.Indptr, r.Ind, r.Data, x, lo, hi) })
}

// parallelRange runs fn over contiguous ranges of [0, n), one per
// GOMAXPROCS goroutine when n is large, else in the calling goroutine.
func parallelRange(n int, fn func(lo, hi int)) {
	nw := runtime.GOMAXPROCS(0)
	if n < parallelRows || nw < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(nw)
	for w := 0; w < nw; w++ {
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(w*n/nw, (w+1)*n/nw)
	}
	wg.Wait()
}

// parallelRows is the size from which matrix-vector products are split over
// goroutines (below it the start-up costs more than it saves).
const parallelRows = 1 << 15

func mulRows(dst []float64, ip, ind []int, data, x []float64, lo, hi int) {
	for i := lo; i < hi; i++ {
		s := 0.0
		for k := ip[i]; k < ip[i+1]; k++ {
			s += data[k] * x[ind[k]]
		}
		dst[i] = s
	}
}

// residual computes r = b − A x and returns ||r||₂.
func residual(r []float64, a *sparse.CSR, x, b []float64) float64 {
	mulVec(r, a, x)
	s := 0.0
	for i := range r {
		r[i] = b[i] - r[i]
		s += r[i] * r[i]
	}
	return math.Sqrt(s)
}

func norm2(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

func dot(x, y []float64) float64 {
	s := 0.0
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// MulVec computes dst = A x on the raw CSR arrays, overwriting dst (the
// product the solvers use, split over goroutines for large matrices).
func MulVec(dst []float64, a *sparse.CSR, x []float64) { mulVec(dst, a, x) }
