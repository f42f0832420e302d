// Package solvers advances Fokker–Planck densities in time and computes
// stationary densities, on the sparse generators built by package operators.
//
// # Linear solvers
//
// Linear systems A x = b are solved by a direct tridiagonal (Thomas)
// algorithm when A is tridiagonal or cyclic tridiagonal (1D grids), and
// otherwise by right-preconditioned BiCGSTAB or restarted GMRES with a Jacobi
// or ILU(0) preconditioner, all working on the raw CSR arrays. Every solve
// returns its iteration count and its true relative residual
// ||b − A x|| / ||b||, and an error when it does not reach the tolerance:
// never a silently wrong answer.
//
// The matrices of axis-only stencils (2d+1 diagonals) get AxisILU0 for
// ILU(0): the factors in diagonal storage, modified ILU(0) on
// diffusion-dominated M-matrices such as the time-step matrices, and
// BiCGSTAB on the split preconditioned system with Eisenstat's trick (two
// triangular sweeps per product, no product with A). Its sweeps and vector
// operations can run on two goroutines; a Krylov solver times solves both
// ways and keeps the faster, and the iterates are the same to the last bit
// either way, so results never depend on the number of processors.
//
// # Time stepping
//
// A Stepper integrates dp/dt = L(t) p with backward Euler, BDF2 or
// Crank–Nicolson (with two backward-Euler start-up half steps that damp the
// oscillations Crank–Nicolson keeps from rough data), at a fixed step or with
// an adaptive step controlled by a local error estimate. Steps land exactly
// on the requested output times. After each accepted step the observers are
// called in order; an observer may stop the run. On a time-independent
// axis-only operator without absorbing or periodic sides (2D and 3D), the
// step matrix c I − gamma L is built in diagonal storage straight from the
// operator's connections and factored by AxisILU0 (axis_system.go): no CSR
// matrix is laid out, which on the benchmark P3 is a third less fresh
// memory.
//
// # Stationary densities
//
// Stationary solves L p = 0 subject to sum p·V = 1 by pinning one cell, then
// normalising. With reflecting or periodic boundaries the generator is a
// singular M-matrix whose kernel is spanned by a positive vector, so the
// result is non-negative; with an absorbing side there is no stationary
// density and Stationary returns an error.
package solvers
