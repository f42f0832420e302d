package data

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/fokkerplanck/fokker/grid"
)

func TestRoundTrip(t *testing.T) {
	for d := 1; d <= 3; d++ {
		t.Run(fmt.Sprintf("%dD", d), func(t *testing.T) {
			testRoundTrip(t, d)
		})
	}
}

func testRoundTrip(t *testing.T, d int) {
	g := testGrid(t, d)
	path := testPath(t, "run.h5")
	created := time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)
	h := Header{
		FokkerVersion: "v0.1.0",
		Created:       created,
		Command:       "fokker run spec.toml",
		Spec:          "[grid]\nx = { lo = -2, hi = 2, n = 7 }\n# a \"quoted\" ∂ line\n",
		Convention:    "ito",
		Scheme:        "upwind/rk4",
		Extra:         map[string]any{"seed": 42, "dt": 0.125, "solver": "cg", "tags": []string{"a", "b"}},
	}
	w, err := NewWriter(path, g, WithHeader(h))
	if err != nil {
		t.Fatal(err)
	}
	exact, err := w.NewGridSeries("/exact")
	if err != nil {
		t.Fatal(err)
	}
	survival, err := w.NewSeries("/particles/survival", nil, []string{DimTime})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddLabelDim("metric", []string{"w1", "ks", "l2"}); err != nil {
		t.Fatal(err)
	}
	metrics, err := w.NewSeries("/particles/metrics", []int{3}, []string{DimTime, "metric"})
	if err != nil {
		t.Fatal(err)
	}
	drift := gaussian(g, -3)
	if err := w.WriteGridDataset("/sgd/drift_x", drift); err != nil {
		t.Fatal(err)
	}
	if err := w.SetAttr(PathDensity, "units", "1/length^d"); err != nil {
		t.Fatal(err)
	}
	if err := w.SetAttr("/particles", "n", 1000); err != nil {
		t.Fatal(err)
	}
	if err := w.StartSWMR(); err != nil {
		t.Fatal(err)
	}

	times := []float64{0, 0.25, 1.5}
	var want []Moments
	for i, tm := range times {
		p := gaussian(g, float64(i))
		if err := exact.Append(gaussian(g, float64(i)+0.5)); err != nil {
			t.Fatal(err)
		}
		if err := survival.Append([]float64{1 - 0.1*float64(i)}); err != nil {
			t.Fatal(err)
		}
		if err := metrics.Append([]float64{float64(i), 2 * float64(i), 3}); err != nil {
			t.Fatal(err)
		}
		if err := w.Append(tm, p); err != nil {
			t.Fatal(err)
		}
		var m Moments
		ComputeMoments(&m, g, p)
		want = append(want, m)
	}
	if w.Len() != len(times) {
		t.Errorf("Writer.Len = %d, want %d", w.Len(), len(times))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	noOpenObjects(t)

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		noOpenObjects(t)
	}()
	if f.SWMR() {
		t.Error("a closed file was opened in SWMR mode")
	}
	if f.Kind() != Transient || f.FormatVersion() != FormatVersion {
		t.Errorf("kind %v version %d", f.Kind(), f.FormatVersion())
	}
	got := f.Header()
	if !got.Created.Equal(created) || got.FokkerVersion != h.FokkerVersion || got.Command != h.Command ||
		got.Spec != h.Spec || got.Convention != h.Convention || got.Scheme != h.Scheme || f.Spec() != h.Spec {
		t.Errorf("header:\n got %+v\nwant %+v", got, h)
	}
	wantExtra := map[string]any{"seed": int64(42), "dt": 0.125, "solver": "cg", "tags": []string{"a", "b"}}
	if fmt.Sprint(got.Extra) != fmt.Sprint(wantExtra) {
		t.Errorf("extra attributes: got %#v, want %#v", got.Extra, wantExtra)
	}

	if !slices.Equal(f.Names(), g.Names()) || !slices.Equal(f.Shape(), g.Shape()) || f.Dim() != d || f.Len() != g.Len() {
		t.Fatalf("axes %v shape %v, want %v %v", f.Names(), f.Shape(), g.Names(), g.Shape())
	}
	for k := 0; k < d; k++ {
		if !slices.Equal(f.Centres(k), g.Centres(k)) || !slices.Equal(f.Edges(k), g.Edges(k)) {
			t.Errorf("axis %d: centres or edges differ", k)
		}
	}
	g2, err := f.Grid()
	if err != nil {
		t.Fatal(err)
	}
	if g2.String() != g.String() {
		t.Errorf("grid %v, want %v", g2, g)
	}
	for k := 0; k < d; k++ {
		lo, hi := g.Bounds(k)
		lo2, hi2 := g2.Bounds(k)
		if lo != lo2 || hi != hi2 || !slices.Equal(g2.Edges(k), g.Edges(k)) {
			t.Errorf("axis %d: boundaries %v %v, want %v %v", k, lo2, hi2, lo, hi)
		}
	}

	if f.Snapshots() != len(times) || !slices.Equal(f.Times(), times) {
		t.Fatalf("times %v, want %v", f.Times(), times)
	}
	var buf []float64
	for i := range times {
		buf, err = f.Density(buf, i)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(buf, gaussian(g, float64(i))) {
			t.Errorf("snapshot %d: density differs", i)
		}
		m, err := f.Moments(i)
		if err != nil {
			t.Fatal(err)
		}
		if m.Mass != want[i].Mass || !slices.Equal(m.Mean, want[i].Mean) || !slices.Equal(m.Cov, want[i].Cov) {
			t.Errorf("snapshot %d: moments %+v, want %+v", i, m, want[i])
		}
	}
	if _, err := f.Density(buf, len(times)); err == nil {
		t.Error("Density beyond the last snapshot: no error")
	}
	if _, _, err := f.Stationary(nil); err == nil {
		t.Error("Stationary on a transient file: no error")
	}

	shape, v, err := f.Dataset("/exact")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, append([]int{len(times)}, g.Shape()...)) || !slices.Equal(v[g.Len():2*g.Len()], gaussian(g, 1.5)) {
		t.Errorf("/exact: shape %v or values differ", shape)
	}
	shape, v, err = f.Dataset("sgd/drift_x")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, g.Shape()) || !slices.Equal(v, drift) {
		t.Errorf("/sgd/drift_x: shape %v or values differ", shape)
	}
	shape, v, err = f.Dataset("/particles/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{3, 3}) || !slices.Equal(v, []float64{0, 0, 3, 1, 2, 3, 2, 4, 3}) {
		t.Errorf("/particles/metrics: shape %v values %v", shape, v)
	}

	infos, err := f.Datasets()
	if err != nil {
		t.Fatal(err)
	}
	dims := map[string]string{}
	for _, in := range infos {
		dims[in.Path] = fmt.Sprint(in.Shape, in.Dims)
	}
	axes := fmt.Sprint(g.Names())
	axes = axes[1 : len(axes)-1]
	shp := fmt.Sprint(g.Shape())
	shp = shp[1 : len(shp)-1]
	for p, want := range map[string]string{
		"/density":            fmt.Sprintf("[3 %s] [time %s]", shp, axes),
		"/exact":              fmt.Sprintf("[3 %s] [time %s]", shp, axes),
		"/time":               "[3] [time]",
		"/mass":               "[3] [time]",
		"/mean":               fmt.Sprintf("[3 %d] [time axis]", d),
		"/covariance":         fmt.Sprintf("[3 %d %d] [time axis axis2]", d, d),
		"/x":                  "[7] [x]",
		"/grid/x":             "[7] [x]",
		"/grid/x_edges":       "[8] [x_edges]",
		"/axis":               fmt.Sprintf("[%d] [axis]", d),
		"/particles/survival": "[3] [time]",
		"/particles/metrics":  "[3 3] [time metric]",
		"/sgd/drift_x":        fmt.Sprintf("[%s] [%s]", shp, axes),
	} {
		if dims[p] != want {
			t.Errorf("Datasets: %s is %q, want %q", p, dims[p], want)
		}
	}

	a, err := f.Attrs(PathDensity)
	if err != nil {
		t.Fatal(err)
	}
	if a["units"] != "1/length^d" {
		t.Errorf("attributes of /density: %v", a)
	}
	a, err = f.Attrs("/particles")
	if err != nil {
		t.Fatal(err)
	}
	if a["n"] != int64(1000) {
		t.Errorf("attributes of /particles: %v", a)
	}
	if _, err := f.Attrs("/nothing"); err == nil {
		t.Error("Attrs of a missing object: no error")
	}
	if _, _, err := f.Dataset("/nothing/here"); err == nil {
		t.Error("Dataset of a missing path: no error")
	}
	if _, _, err := f.Dataset("/axis"); err == nil {
		t.Error("Dataset of a string dataset: no error")
	}
}

func TestSteady(t *testing.T) {
	g := testGrid(t, 2)
	path := testPath(t, "steady.h5")
	w, err := NewWriter(path, g, WithKind(Steady), WithHeader(Header{Command: "fokker steady"}))
	if err != nil {
		t.Fatal(err)
	}
	p := gaussian(g, 2)
	if err := w.WriteStationary(p, 3.5e-11); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteStationary(p, 1); err == nil {
		t.Error("second WriteStationary: no error")
	}
	if _, err := w.NewGridSeries("/exact"); err == nil {
		t.Error("NewGridSeries on a steady file: no error")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	noOpenObjects(t)

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Kind() != Steady || f.Snapshots() != 0 {
		t.Errorf("kind %v with %d snapshots", f.Kind(), f.Snapshots())
	}
	q, res, err := f.Stationary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q, p) || res != 3.5e-11 {
		t.Errorf("stationary density differs or residual %g", res)
	}
	var want Moments
	ComputeMoments(&want, g, p)
	m, err := f.StationaryMoments()
	if err != nil {
		t.Fatal(err)
	}
	if m.Mass != want.Mass || !slices.Equal(m.Mean, want.Mean) || !slices.Equal(m.Cov, want.Cov) {
		t.Errorf("moments %+v, want %+v", m, want)
	}
	if _, err := f.Density(nil, 0); err == nil {
		t.Error("Density on a steady file: no error")
	}
	infos, err := f.Datasets()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, in := range infos {
		got[in.Path] = fmt.Sprint(in.Shape, in.Dims)
	}
	for p, want := range map[string]string{
		PathStationary: "[7 5] [x y]",
		PathMass:       "[] []",
		PathMean:       "[2] [axis]",
		PathCovariance: "[2 2] [axis axis2]",
	} {
		if got[p] != want {
			t.Errorf("%s: %s, want %s", p, got[p], want)
		}
	}
	if _, ok := got[PathTime]; ok {
		t.Errorf("steady file has %s", PathTime)
	}
	f.Close()
	noOpenObjects(t)
}

func TestComputeMoments(t *testing.T) {
	for d := 1; d <= 3; d++ {
		g := testGrid(t, d)
		p := gaussian(g, 1)
		// Direct evaluation of the definitions, one cell at a time.
		c := make([]float64, d)
		mass := 0.0
		mean := make([]float64, d)
		for l := range p {
			g.Centre(c, l)
			w := p[l] * g.Volume(l)
			mass += w
			for k := range c {
				mean[k] += w * c[k]
			}
		}
		for k := range mean {
			mean[k] /= mass
		}
		cov := make([]float64, d*d)
		for l := range p {
			g.Centre(c, l)
			w := p[l] * g.Volume(l)
			for k := range c {
				for j := range c {
					cov[k*d+j] += w * (c[k] - mean[k]) * (c[j] - mean[j]) / mass
				}
			}
		}
		var m Moments
		ComputeMoments(&m, g, p)
		// The sums are the same up to the order of additions: agreement to
		// a few ulps times the number of cells (≤ 140).
		const tol = 1e-13
		if !near(m.Mass, mass, tol) {
			t.Errorf("%dD: mass %v, want %v", d, m.Mass, mass)
		}
		for k := range mean {
			if !near(m.Mean[k], mean[k], tol) {
				t.Errorf("%dD: mean[%d] = %v, want %v", d, k, m.Mean[k], mean[k])
			}
		}
		for k := range cov {
			if !near(m.Cov[k], cov[k], tol) {
				t.Errorf("%dD: cov[%d] = %v, want %v", d, k, m.Cov[k], cov[k])
			}
		}
		if a := testing.AllocsPerRun(10, func() { ComputeMoments(&m, g, p) }); a != 0 {
			t.Errorf("%dD: ComputeMoments allocates %v times", d, a)
		}

		ComputeMoments(&m, g, make([]float64, g.Len()))
		if m.Mass != 0 || !math.IsNaN(m.Mean[0]) || !math.IsNaN(m.Cov[0]) {
			t.Errorf("%dD: zero density gives %+v, want mass 0 and NaN moments", d, m)
		}
	}
}

// A Gaussian on a fine uniform grid has the moments of the Gaussian, up to
// the midpoint rule's O(h²) error.
func TestComputeMomentsGaussian(t *testing.T) {
	g, err := grid.New(grid.Uniform("x", -9, 11, 400), grid.Uniform("y", -10, 10, 400))
	if err != nil {
		t.Fatal(err)
	}
	const mx, sx, sy, rho = 1.0, 1.5, 1.0, 0.5
	p := make([]float64, g.Len())
	c := make([]float64, 2)
	for l := range p {
		g.Centre(c, l)
		u, v := (c[0]-mx)/sx, c[1]/sy
		q := (u*u - 2*rho*u*v + v*v) / (1 - rho*rho)
		p[l] = math.Exp(-q/2) / (2 * math.Pi * sx * sy * math.Sqrt(1-rho*rho))
	}
	var m Moments
	ComputeMoments(&m, g, p)
	// h = 0.05: midpoint-rule errors h²/12·(second derivative) ≈ 2e-4 relative
	// on the variances; tails beyond 6σ are below 1e-8.
	const tol = 5e-4
	want := []float64{sx * sx, rho * sx * sy, rho * sx * sy, sy * sy}
	if !near(m.Mass, 1, tol) || !near(m.Mean[0], mx, tol) || math.Abs(m.Mean[1]) > tol {
		t.Errorf("mass %v mean %v, want 1 [%v 0]", m.Mass, m.Mean, mx)
	}
	for k := range want {
		if !near(m.Cov[k], want[k], tol) {
			t.Errorf("cov %v, want %v", m.Cov, want)
			break
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	g := testGrid(t, 2)
	w, err := NewWriter(testPath(t, "a.h5"), g)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p := gaussian(g, 0)
	w.Append(0, p)
	i := 1.0
	a := testing.AllocsPerRun(20, func() {
		if err := w.Append(i, p); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if a != 0 {
		t.Errorf("Append allocates %v times per call", a)
	}
}

func TestWriteDataset(t *testing.T) {
	g := testGrid(t, 2)
	path := testPath(t, "ds.h5")
	w, err := NewWriter(path, g)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddDim("energy", []float64{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	big := make([]float64, 3*4*1000) // ≥ 64 KiB: chunked and compressed
	for i := range big {
		big[i] = float64(i)
	}
	if err := w.WriteDataset("/analysis/big", []int{3, 4, 1000}, big, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDataset("/spectrum", []int{4}, []float64{4, 3, 2, 1}, []string{"energy"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDataset("/analysis/scalar", nil, []float64{2.5}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.SetAttr("/analysis/scalar", "flags", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.SetAttr("/", "note", "hello"); err != nil {
		t.Fatal(err)
	}
	if err := w.SetAttr("/", "note", 3.5); err != nil { // replaces
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		path  string
		shape []int
		v     []float64
	}{
		{"/analysis/big", []int{3, 4, 1000}, big},
		{"/spectrum", []int{4}, []float64{4, 3, 2, 1}},
		{"/energy", []int{4}, []float64{1, 2, 3, 4}},
		{"/analysis/scalar", []int{}, []float64{2.5}},
	} {
		shape, v, err := f.Dataset(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, c.shape) || !slices.Equal(v, c.v) {
			t.Errorf("%s: shape %v, want %v", c.path, shape, c.shape)
		}
	}
	if f.Header().Extra["note"] != 3.5 {
		t.Errorf("root attribute note = %v, want 3.5", f.Header().Extra["note"])
	}
	a, err := f.Attrs("/analysis/scalar")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a["flags"]) != "[1 2]" {
		t.Errorf("flags = %#v", a["flags"])
	}
}

func TestGridChunk(t *testing.T) {
	for _, c := range []struct {
		lead int
		row  []int
		want []int
	}{
		{1, []int{512, 512}, []int{1, 512, 512}},
		{1, []int{2048, 2048, 64}, []int{1, 1024, 2048, 64}}, // 2 GiB row halved once
		{0, []int{3}, []int{3}},
		{1, []int{0, 4}, []int{1, 1, 4}},
	} {
		if got := gridChunk(c.lead, c.row); !slices.Equal(got, c.want) {
			t.Errorf("gridChunk(%d, %v) = %v, want %v", c.lead, c.row, got, c.want)
		}
	}
	if got := seriesChunk(nil); !slices.Equal(got, []int{1024}) {
		t.Errorf("seriesChunk(nil) = %v", got)
	}
	if got := seriesChunk([]int{3, 3}); !slices.Equal(got, []int{910, 3, 3}) {
		t.Errorf("seriesChunk([3 3]) = %v", got)
	}
}
