package data

import (
	"fmt"
	"math"
	"syscall"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
)

func BenchmarkAppend512Deflate4(b *testing.B) { benchmarkAppend(b, 512, 4) }
func BenchmarkAppend512Deflate1(b *testing.B) { benchmarkAppend(b, 512, 1) }
func BenchmarkAppend512Deflate0(b *testing.B) { benchmarkAppend(b, 512, 0) }
func BenchmarkAppend128Deflate4(b *testing.B) { benchmarkAppend(b, 128, 4) }

// benchmarkAppend times Append of n×n snapshots to a SWMR file. The density
// is a smooth Gaussian at full float64 precision, like a solver's output:
// deflate shrinks it by a fifth only, and spends most of the time.
func benchmarkAppend(b *testing.B, n, level int) {
	g, err := grid.New(grid.Uniform("x", -5, 5, n), grid.Uniform("y", -5, 5, n))
	if err != nil {
		b.Fatal(err)
	}
	w, err := NewWriter(fmt.Sprintf("%s/bench.h5", b.TempDir()), g, WithDeflate(level))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if err := w.StartSWMR(); err != nil {
		b.Fatal(err)
	}
	p := make([]float64, g.Len())
	c := make([]float64, 2)
	for l := range p {
		g.Centre(c, l)
		p[l] = math.Exp(-(c[0]*c[0]+2*c[1]*c[1])/2) / (math.Sqrt2 * math.Pi)
	}
	b.SetBytes(int64(8 * g.Len()))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := w.Append(float64(i), p); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time, unlike wall time, does not depend on what else the machine
	// is doing.
	b.ReportMetric((cpuTime()-cpu0)/float64(b.N)*1e3, "cpu-ms/op")
}

// cpuTime returns the CPU time (user and system) used by the process, in
// seconds.
func cpuTime() float64 {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e9
}
