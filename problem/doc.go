// Package problem turns a parsed spec (package spec) into the objects of a
// computation — grid, model with compiled expressions, operator settings,
// initial density, time stepping settings — exactly the objects a Go user
// builds by hand with packages grid, operators and solvers. The command line
// is a thin layer over it; there is no second code path.
//
// Errors from the user's input are *spec.Error values naming the file, line
// and field.
package problem
