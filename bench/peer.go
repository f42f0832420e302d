package bench

import (
	_ "embed"
)

// ScipyPeer is the text of bench/scipy_peer.py, embedded so that the
// installed binary can run its peer.
//
//go:embed scipy_peer.py
var ScipyPeer string
