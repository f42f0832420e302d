package solvers

// spinPause executes the PAUSE instruction a few times: a spin-wait loop
// that calls it leaves the execution resources of the core to the other
// hardware thread on it, and wastes less power.
//
//go:noescape
func spinPause()
