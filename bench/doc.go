// Package bench defines fokker's fixed performance problems (P1–P5 of
// docs/performance.md) and runs them, measuring time, iterations, error
// against the exact solution, and the cost in matrix-vector products.
// `fokker bench` runs each case in a child process (for its peak memory)
// beside the scipy/numpy peer bench/scipy_peer.py, and prints both with
// their ratios.
package bench
