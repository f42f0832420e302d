//go:build !linux

package data

import "os"

// lockWriter takes no lock on systems without open file description locks:
// whether a writer is alive is then unknown (see lock_linux.go).
func lockWriter(path string) (*os.File, error) { return nil, nil }

// writerAlive cannot tell on this system.
func writerAlive(path string) (alive, known bool) { return false, false }
