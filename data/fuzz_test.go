package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
)

// fuzzFiles writes the valid files of FuzzOpen's seed corpus into dir and
// returns their contents: a transient file with /exact and a checkpoint
// (closed, and as left by a writer still in SWMR mode), and a steady file,
// on small grids.
func fuzzFiles(f testing.TB, dir string) [][]byte {
	f.Helper()
	g1, err := grid.New(grid.Uniform("x", -1, 1, 4).WithBoundary(grid.Absorbing, grid.Reflecting))
	if err != nil {
		f.Fatal(err)
	}
	g2, err := grid.New(grid.Uniform("x", -1, 1, 3), grid.Uniform("y", 0, 1, 2).WithBoundary(grid.Periodic, grid.Periodic))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	add := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	for i, g := range []*grid.Grid{g1, g2} {
		path := filepath.Join(dir, "transient"+string(rune('0'+i))+".h5")
		w, err := NewWriter(path, g, WithHeader(Header{Spec: "[grid]\n", Extra: map[string]any{"title": "fuzz"}}))
		if err != nil {
			f.Fatal(err)
		}
		ex, err := w.NewGridSeries("/exact")
		if err == nil {
			err = w.NewCheckpoint()
		}
		if err == nil {
			err = w.StartSWMR()
		}
		for s := 0; s < 3 && err == nil; s++ {
			p := gaussian(g, float64(s))
			if err = ex.Append(p); err == nil {
				err = w.SetCheckpoint(&Checkpoint{Time: float64(s), Steps: s, N: 1, Past: [2][]float64{p}, PastDt: [2]float64{0.5}})
			}
			if err == nil {
				err = w.Append(float64(s), p)
			}
		}
		if err != nil {
			f.Fatal(err)
		}
		if i == 1 {
			add(path) // still open for writing: the SWMR flags are set
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		add(path)
	}
	path := filepath.Join(dir, "steady.h5")
	w, err := NewWriter(path, g2, WithKind(Steady))
	if err != nil {
		f.Fatal(err)
	}
	if err := w.WriteStationary(gaussian(g2, 0), 1e-12); err != nil {
		f.Fatal(err)
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	add(path)
	return out
}

// FuzzOpen feeds arbitrary bytes to the reader (Open and every accessor)
// and to Reopen: any input must give an error prefixed "data: " or a
// usable file, never a panic, and leave no HDF5 object open. The seed
// corpus holds valid files, truncated copies and copies with flipped bits.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	rnd := rand.New(rand.NewPCG(5, 9))
	for _, b := range fuzzFiles(f, dir) {
		f.Add(b)
		for _, frac := range []float64{0.1, 0.5, 0.9} {
			f.Add(b[:int(frac*float64(len(b)))])
		}
		for k := 0; k < 4; k++ {
			c := append([]byte(nil), b...)
			i := rnd.IntN(len(c))
			c[i] ^= 1 << rnd.IntN(8)
			f.Add(c)
		}
	}
	f.Add([]byte("\x89HDF\r\n\x1a\n"))
	f.Add([]byte{})

	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(work, "in.h5")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		checkErr := func(what string, err error) {
			t.Helper()
			if err != nil && !strings.HasPrefix(err.Error(), "data: ") {
				t.Errorf("%s: error %q not prefixed \"data: \"", what, err)
			}
		}
		fl, err := Open(path)
		checkErr("Open", err)
		if err == nil {
			exercise(t, fl, checkErr)
			checkErr("Close", fl.Close())
		}
		noOpenObjects(t)
		w, err := Reopen(path)
		checkErr("Reopen", err)
		if err == nil {
			if w.Len() > 0 && w.Grid().Len() <= 1<<12 {
				checkErr("Append", w.Append(1e9, make([]float64, w.Grid().Len())))
			}
			checkErr("Close", w.Close())
		}
		noOpenObjects(t)
	})
}

// exercise calls every accessor of a File opened without error.
func exercise(t *testing.T, f *File, checkErr func(string, error)) {
	t.Helper()
	_, err := f.Grid()
	checkErr("Grid", err)
	_ = f.Header()
	_, err = f.Datasets()
	checkErr("Datasets", err)
	_, err = f.Attrs("/")
	checkErr("Attrs", err)
	_, _, err = f.Dataset(PathMass)
	checkErr("Dataset", err)
	small := f.Len() <= 1<<12
	switch f.Kind() {
	case Transient:
		for i := 0; i < min(f.Snapshots(), 4); i++ {
			if small {
				_, err = f.Density(nil, i)
				checkErr("Density", err)
			}
			_, err = f.Moments(i)
			checkErr("Moments", err)
		}
		if small {
			_, err = f.Checkpoint()
			checkErr("Checkpoint", err)
		}
		checkErr("Refresh", f.Refresh())
	case Steady:
		if small {
			_, _, err = f.Stationary(nil)
			checkErr("Stationary", err)
		}
		_, err = f.StationaryMoments()
		checkErr("StationaryMoments", err)
	}
}
