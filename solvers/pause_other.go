//go:build !amd64

package solvers

// spinPause is a no-op where no pause instruction is wired up.
func spinPause() {}
