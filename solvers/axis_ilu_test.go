package solvers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/james-bowman/sparse"
)

// stencilMatrix returns a random matrix with the pattern of the 2d+1-point
// stencil on a grid of the given shape (first axis fastest). Off-diagonal
// entries are in (−1, 0) — or of either sign with mixed — and each diagonal
// entry exceeds the sum of its row's off-diagonal magnitudes by 0.1 to 1.1,
// with its sign flipped on about one row in ten when mixed. With band, every
// diagonal is full (entries also between the end of one grid line and the
// start of the next), with periodic, the first axis wraps around.
func stencilMatrix(rng *rand.Rand, shape []int, band, periodic, mixed bool) *sparse.CSR {
	n := 1
	for _, m := range shape {
		n *= m
	}
	ip := []int{0}
	var ind []int
	var data []float64
	for i := 0; i < n; i++ {
		cols := []int{i}
		stride := 1
		for _, m := range shape {
			c := i / stride % m
			for _, dc := range []int{-1, 1} {
				switch {
				case c+dc >= 0 && c+dc < m:
					cols = append(cols, i+dc*stride)
				case band && i+dc*stride >= 0 && i+dc*stride < n:
					cols = append(cols, i+dc*stride)
				case periodic && stride == 1 && m > 2:
					cols = append(cols, i+dc*stride-dc*m*stride)
				}
			}
			stride *= m
		}
		slices.Sort(cols)
		cols = slices.Compact(cols)
		row := make([]float64, len(cols))
		sum := 0.0
		for k, j := range cols {
			if j == i {
				continue
			}
			row[k] = -rng.Float64()
			if mixed && rng.IntN(2) == 0 {
				row[k] = -row[k]
			}
			sum += math.Abs(row[k])
		}
		sign := 1.0
		if mixed && rng.IntN(10) == 0 {
			sign = -1
		}
		for k, j := range cols {
			if j == i {
				row[k] = sign * (sum + 0.1 + rng.Float64())
			}
		}
		ind = append(ind, cols...)
		data = append(data, row...)
		ip = append(ip, len(ind))
	}
	return sparse.NewCSR(n, n, ip, ind, data)
}

func randomVector(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// maxRelDiff returns max |a_i − b_i| / max |b_i|.
func maxRelDiff(a, b []float64) float64 {
	d, m := 0.0, 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	return d / m
}

var axisShapes = [][]int{
	{1}, {2}, {7}, {40},
	{1, 5}, {5, 1}, {3, 3}, {4, 7}, {7, 4}, {33, 3}, {40, 41},
	{3, 3, 3}, {4, 3, 5}, {1, 3, 4}, {3, 1, 4}, {5, 4, 1}, {32, 3, 4},
}

// AxisILU0{Plain: true} is ILU(0): on axis-only stencils, grid-shaped,
// with full diagonals or cyclic tridiagonal, its M⁻¹ r equals that of the
// CSR ILU(0).
func TestAxisILU0MatchesILU0(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, shape := range axisShapes {
		for _, pattern := range []string{"grid", "band", "periodic"} {
			for _, mixed := range []bool{false, true} {
				name := fmt.Sprintf("%v %s mixed=%v", shape, pattern, mixed)
				if pattern == "periodic" && (len(shape) > 1 || shape[0] < 3) {
					// Periodic 1D is cyclic tridiagonal: the wrap-around
					// diagonals ±(n−1) make no fill on the pattern.
					continue
				}
				a := stencilMatrix(rng, shape, pattern == "band", pattern == "periodic", mixed)
				n, _ := a.Dims()
				ax := AxisILU0{Plain: true}
				if err := ax.Factor(a); err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				var ref ILU0Preconditioner
				if err := ref.Factor(a); err != nil {
					t.Fatalf("%s: reference: %v", name, err)
				}
				r := randomVector(rng, n)
				got, want := make([]float64, n), make([]float64, n)
				ax.Apply(got, r)
				ref.Apply(want, r)
				// The same factors computed in another order: round-off
				// of a few operations per row, amplified by the
				// triangular solves of these diagonally dominant factors
				// by a modest factor.
				if d := maxRelDiff(got, want); d > 1e-13 {
					t.Errorf("%s: M⁻¹r differs from CSR ILU(0) by %.2e", name, d)
				}
			}
		}
	}
}

// On a diffusion-dominated M-matrix Factor computes modified ILU(0), whose
// column sums are those of A: 1ᵀ M = 1ᵀ A, so 1ᵀ A M⁻¹ r = 1ᵀ r for every r.
// Its pivots are positive when the column sums of A are (Gustafsson's
// condition for MILU, transposed); where a pivot is not, Factor falls back
// to ILU(0). On matrices that are not M-matrices, or far from symmetric, it
// computes ILU(0).
func TestAxisILU0Modified(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	fallbacks := 0
	for _, shape := range axisShapes[1:] {
		for _, kind := range []string{"diffusive", "weak columns", "skew", "mixed"} {
			name := fmt.Sprintf("%v %s", shape, kind)
			a := stencilMatrix(rng, shape, false, false, kind == "mixed")
			raw := a.RawMatrix()
			n := raw.I
			if kind != "mixed" {
				// a_ij = a_ji (1 ± 10%) above the diagonal, or a_ij =
				// a_ji / 100 ("skew": cell Péclet numbers near 9).
				for i := 0; i < n; i++ {
					for q := raw.Indptr[i]; q < raw.Indptr[i+1]; q++ {
						if j := raw.Ind[q]; j > i {
							f := 0.01
							if kind != "skew" {
								f = 0.9 + 0.2*rng.Float64()
							}
							raw.Data[q] = f * a.At(j, i)
						}
					}
				}
			}
			if kind == "diffusive" || kind == "skew" {
				// Diagonals above both the row and the column sums of
				// the off-diagonal magnitudes.
				col := make([]float64, n)
				for i := 0; i < n; i++ {
					for q := raw.Indptr[i]; q < raw.Indptr[i+1]; q++ {
						if j := raw.Ind[q]; j != i {
							col[j] += math.Abs(raw.Data[q])
						}
					}
				}
				for i := 0; i < n; i++ {
					row := 0.0
					for q := raw.Indptr[i]; q < raw.Indptr[i+1]; q++ {
						if raw.Ind[q] != i {
							row += math.Abs(raw.Data[q])
						}
					}
					for q := raw.Indptr[i]; q < raw.Indptr[i+1]; q++ {
						if raw.Ind[q] == i {
							raw.Data[q] = math.Max(row, col[i]) + 0.1 + rng.Float64()
						}
					}
				}
			}
			var ax AxisILU0
			if err := ax.Factor(a); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			switch {
			case kind == "diffusive" && !ax.modified:
				t.Errorf("%s: not modified", name)
			case (kind == "skew" || kind == "mixed") && ax.modified:
				t.Errorf("%s: modified", name)
			}
			if kind == "weak columns" && !ax.modified {
				fallbacks++
			}
			r := randomVector(rng, n)
			x := make([]float64, n)
			ax.Apply(x, r)
			if !ax.modified {
				// ILU(0), also after a fall-back.
				plain := AxisILU0{Plain: true}
				if err := plain.Factor(a); err != nil {
					t.Fatal(err)
				}
				want := make([]float64, n)
				plain.Apply(want, r)
				if !slices.Equal(x, want) {
					t.Errorf("%s: unmodified factors differ from ILU(0)", name)
				}
				continue
			}
			ax2 := make([]float64, n)
			mulVec(ax2, a, x)
			s1, s2, mag := 0.0, 0.0, 0.0
			for i := range r {
				s1 += r[i]
				s2 += ax2[i]
				mag += math.Abs(r[i])
			}
			// Round-off of the sums and of the triangular solves.
			if math.Abs(s1-s2) > 1e-13*mag {
				t.Errorf("%s: 1ᵀ A M⁻¹ r = %.15g, 1ᵀ r = %.15g", name, s2, s1)
			}
		}
	}
	// Some of the matrices with weak columns need the fall-back.
	t.Logf("%d fall-backs to ILU(0)", fallbacks)
	if fallbacks == 0 {
		t.Error("no fall-back to ILU(0) tested")
	}
}

// Factor refuses patterns in which ILU(0) would fill inside the pattern, and
// autoILU0 then falls back to StencilILU0.
func TestAxisILU0Rejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		a    *sparse.CSR
	}{
		{"periodic 2D", stencilMatrix(rng, []int{6, 5}, false, true, false)},
		{"two columns", stencilMatrix(rng, []int{2, 5}, false, false, false)},
		{"two rows in 3D", stencilMatrix(rng, []int{4, 2, 3}, false, false, false)},
	} {
		var ax AxisILU0
		if err := ax.Factor(tc.a); err == nil {
			t.Errorf("%s: Factor accepted offsets %v", tc.name, stencilOffsets(tc.a))
		}
		var auto autoILU0
		if err := auto.Factor(tc.a); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, ok := auto.use.(*StencilILU0); !ok {
			t.Errorf("%s: auto preconditioner %T, want *StencilILU0", tc.name, auto.use)
		}
	}
}

// The split operator of Eisenstat's trick equals (I + L′)⁻¹ P⁻¹ A (I + U′)⁻¹,
// the residual map P (I + L′) inverts (I + L′)⁻¹ P⁻¹, and Apply is the
// lower sweep followed by the upper one.
func TestAxisILU0Eisenstat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, shape := range axisShapes {
		for _, mixed := range []bool{false, true} {
			name := fmt.Sprintf("%v mixed=%v", shape, mixed)
			a := stencilMatrix(rng, shape, false, false, mixed)
			n, _ := a.Dims()
			var ax AxisILU0
			if err := ax.Factor(a); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v := randomVector(rng, n)
			got := make([]float64, n)
			ax.eisenstat(got, v)
			want := make([]float64, n)
			ax.upper(want, v)
			av := make([]float64, n)
			mulVec(av, a, want)
			for i := range av {
				av[i] *= ax.inv[i]
			}
			ax.lower(want, av)
			// Eisenstat's form replaces the product with A by the
			// identity A′ = (I + L′) + (I + U′) − E: the same quantity up
			// to the round-off of a few operations per row, amplified
			// by the triangular solves.
			if d := maxRelDiff(got, want); d > 1e-13 {
				t.Errorf("%s: Eisenstat product differs by %.2e", name, d)
			}
			r := randomVector(rng, n)
			rs := make([]float64, n)
			for i := range r {
				rs[i] = r[i] * ax.inv[i]
			}
			ax.lower(rs, rs)
			if got, want := math.Sqrt(ax.residualNormRows(rs, 0, n)), norm2(r); math.Abs(got-want) > 1e-13*want {
				t.Errorf("%s: residual norm %.17g, want %.17g", name, got, want)
			}
			ax.Apply(got, r)
			ax.upper(want, rs)
			if !slices.Equal(got, want) {
				t.Errorf("%s: Apply is not the two sweeps", name)
			}
		}
	}
}

// The sweeps split over two goroutines, and the sweeps two lines at a time,
// give bit for bit the results of the plain sequential ones.
func TestAxisILU0Parallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][]int{{128, 130}, {64, 17, 16}, {33, 500}, {40, 3}, {41, 2}} {
		a := stencilMatrix(rng, shape, false, false, true)
		n, _ := a.Dims()
		var ax AxisILU0
		if err := ax.Factor(a); err != nil {
			t.Fatal(err)
		}
		if ax.width == 0 {
			t.Fatalf("%v: sweeps not split", shape)
		}
		v := randomVector(rng, n)
		var seq [3][]float64
		pairs := ax.pairs
		ax.pairs = false
		for op := range seq {
			seq[op] = make([]float64, n)
			ax.op, ax.dst, ax.src = op, seq[op], v
			ax.half(-1)
		}
		ax.pairs = pairs
		for op := range seq {
			got := make([]float64, n)
			ax.op, ax.dst, ax.src = op, got, v
			ax.half(-1)
			if !slices.Equal(got, seq[op]) {
				t.Fatalf("%v: operation %d: two lines at a time differ (%.2e)", shape, op, maxRelDiff(got, seq[op]))
			}
		}
		var f forkJoin
		ax.setFork(&f)
		f.start()
		for rep := 0; rep < 20; rep++ {
			for op := range seq {
				got := make([]float64, n)
				ax.op, ax.dst, ax.src = op, got, v
				ax.progLo.Store(0)
				ax.progHi.Store(0)
				f.runCoupled(ax.forkID)
				if !slices.Equal(got, seq[op]) {
					t.Fatalf("%v: operation %d: parallel result differs (%.2e)", shape, op, maxRelDiff(got, seq[op]))
				}
			}
		}
		f.end()
	}
}

// BiCGSTAB with AxisILU0 (Eisenstat's trick) reaches the tolerance on the
// true residual, reports it, and takes about as many iterations as with the
// CSR ILU(0); so does GMRES, which applies M⁻¹.
func TestAxisILU0Krylov(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, shape := range [][]int{{7}, {40, 41}, {13, 7, 9}, {200, 180}} {
		a := stencilMatrix(rng, shape, false, false, false)
		n, _ := a.Dims()
		b := randomVector(rng, n)
		for _, method := range []Method{BiCGSTAB, GMRES} {
			var its []int
			var xs [][]float64
			for _, pc := range []Preconditioner{&ILU0Preconditioner{}, &AxisILU0{Plain: true}, &AxisILU0{}} {
				k := &Krylov{Settings: LinearSettings{Method: method, Tolerance: 1e-10}}
				k.SetPreconditioner(pc)
				if err := k.Factor(a); err != nil {
					t.Fatal(err)
				}
				x := make([]float64, n)
				res, err := k.Solve(x, b)
				if err != nil {
					t.Fatalf("%v %v %T: %v", shape, method, pc, err)
				}
				r := make([]float64, n)
				if rr := residual(r, a, x, b) / norm2(b); rr > 1e-10 || math.Abs(rr-res.Residual) > 1e-3*rr {
					t.Errorf("%v %v %T: true residual %.3g, reported %.3g", shape, method, pc, rr, res.Residual)
				}
				its = append(its, res.Iterations)
				xs = append(xs, x)
			}
			t.Logf("%v %v: iterations CSR ILU(0) %d, AxisILU0 plain %d, default %d", shape, method, its[0], its[1], its[2])
			if its[1] > its[0]+2 {
				t.Errorf("%v %v: %d iterations with AxisILU0, %d with ILU(0)", shape, method, its[1], its[0])
			}
			// All at relative residual 1e-10 of a diagonally dominant
			// system (condition number of a few tens).
			for _, x := range xs[1:] {
				if d := maxRelDiff(x, xs[0]); d > 1e-8 {
					t.Errorf("%v %v: solutions differ by %.2e", shape, method, d)
				}
			}
		}
	}
}

// A split BiCGSTAB solve gives bit for bit the same iterates on one
// goroutine and on two (Krylov chooses between them by timing alone).
func TestSplitSolveModes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(15, 16))
	a := stencilMatrix(rng, []int{200, 180}, false, false, false)
	n, _ := a.Dims()
	b := randomVector(rng, n)
	var xs [2][]float64
	var its [2]int
	for mode := range 2 {
		k := &Krylov{Settings: LinearSettings{Method: BiCGSTAB, Tolerance: 1e-12}}
		if err := k.Factor(a); err != nil {
			t.Fatal(err)
		}
		if k.split == nil || !k.split.parallel() {
			t.Fatal("not a split solve on two goroutines")
		}
		// Timings that make pickMode choose mode.
		k.modeRuns = [2]int{2, 2}
		k.modeTime = [2]float64{float64(1 + mode), float64(2 - mode)}
		xs[mode] = make([]float64, n)
		res, err := k.Solve(xs[mode], b)
		if err != nil {
			t.Fatal(err)
		}
		if k.modeRuns[mode] != 3 {
			t.Fatalf("mode %d not taken", mode)
		}
		its[mode] = res.Iterations
	}
	if its[0] != its[1] || !slices.Equal(xs[0], xs[1]) {
		t.Errorf("one goroutine: %d iterations, two: %d; solutions differ by %.2e", its[0], its[1], maxRelDiff(xs[1], xs[0]))
	}
}

// Split solves allocate nothing once the workspaces exist, on one goroutine
// or on two.
func TestSplitSolveAllocs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(17, 18))
	a := stencilMatrix(rng, []int{200, 180}, false, false, false)
	n, _ := a.Dims()
	b, x := randomVector(rng, n), make([]float64, n)
	for mode := range 2 {
		k := &Krylov{Settings: LinearSettings{Method: BiCGSTAB}}
		if err := k.Factor(a); err != nil {
			t.Fatal(err)
		}
		solve := func() {
			k.modeRuns = [2]int{2, 2}
			k.modeTime = [2]float64{float64(1 + mode), float64(2 - mode)}
			clear(x)
			if _, err := k.Solve(x, b); err != nil {
				t.Fatal(err)
			}
		}
		solve()
		if allocs := testing.AllocsPerRun(5, solve); allocs != 0 {
			t.Errorf("mode %d: %v allocations per solve", mode, allocs)
		}
	}
}

// benchAxis times one application of a preconditioner to a random 5-point
// M-matrix on an m×m grid: "stencil" is StencilILU0.Apply, "apply"
// AxisILU0.Apply, "eisenstat", "lower" and "upper" its split product and
// sweeps, on one goroutine or (parallel) on two. It reports ns per row.
func benchAxis(b *testing.B, m int, kind string, parallel bool) {
	rng := rand.New(rand.NewPCG(11, 12))
	a := stencilMatrix(rng, []int{m, m}, false, false, false)
	n := m * m
	v, dst := randomVector(rng, n), make([]float64, n)
	var apply func()
	switch kind {
	case "stencil":
		var st StencilILU0
		if err := st.Factor(a); err != nil {
			b.Fatal(err)
		}
		apply = func() { st.Apply(dst, v) }
	default:
		var ax AxisILU0
		if err := ax.Factor(a); err != nil {
			b.Fatal(err)
		}
		if parallel {
			var f forkJoin
			ax.setFork(&f)
			f.start()
			defer f.end()
		}
		op := map[string]int{"eisenstat": opEisenstat, "lower": opLower, "upper": opUpper}[kind]
		apply = func() { ax.sweep(op, dst, v) }
		if kind == "apply" {
			apply = func() { ax.Apply(dst, v) }
		}
	}
	b.ResetTimer()
	for range b.N {
		apply()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
	axisSink = dst[n/2]
}

var axisSink float64

func BenchmarkStencilILU0Apply256(b *testing.B)        { benchAxis(b, 256, "stencil", false) }
func BenchmarkAxisILU0Apply256(b *testing.B)           { benchAxis(b, 256, "apply", false) }
func BenchmarkAxisILU0Lower256(b *testing.B)           { benchAxis(b, 256, "lower", false) }
func BenchmarkAxisILU0Upper256(b *testing.B)           { benchAxis(b, 256, "upper", false) }
func BenchmarkAxisILU0Eisenstat256(b *testing.B)       { benchAxis(b, 256, "eisenstat", false) }
func BenchmarkAxisILU0Eisenstat256Twice(b *testing.B)  { benchAxis(b, 256, "eisenstat", true) }
func BenchmarkAxisILU0Eisenstat1024(b *testing.B)      { benchAxis(b, 1024, "eisenstat", false) }
func BenchmarkAxisILU0Eisenstat1024Twice(b *testing.B) { benchAxis(b, 1024, "eisenstat", true) }
