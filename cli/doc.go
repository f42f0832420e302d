// Package cli implements the fokker command line: run, steady, inspect,
// plot, examples (and validate, sgd, bench). cmd/fokker is a thin main over
// Main, so that every command is testable in-process.
//
// # Exit codes
//
//	0    success
//	1    the computation failed (a solver did not converge, a NaN appeared)
//	2    bad input: malformed spec, unknown variable, bad coefficient values,
//	     impossible grid, unwritable output path, bad flags
//	130  interrupted (Ctrl-C); the output file holds the snapshots so far
//
// Bad input is detected before the output file is created, so it leaves no
// file behind and an existing file untouched.
package cli
