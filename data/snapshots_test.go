package data

import (
	"fmt"
	"path/filepath"
	"testing"
)

// A file made WithSnapshots(n) has per-snapshot datasets of maximum length
// n, allocated at creation (a chunk index that never grows: a fixed array,
// or none when uncompressed), which Reopen keeps appending to; an append
// beyond n fails and says why; h5py reads the shapes.
func TestWithSnapshots(t *testing.T) {
	for _, deflate := range []int{0, DefaultDeflate} {
		path := testPath(t, fmt.Sprintf("snap%d.h5", deflate))
		g := docGrid(t)
		w, err := NewWriter(path, g, WithSnapshots(3), WithDeflate(deflate))
		if err != nil {
			t.Fatal(err)
		}
		ex, err := w.NewGridSeries("/exact")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.StartSWMR(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := ex.Append(gaussian(g, float64(i)+0.5)); err != nil {
				t.Fatal(err)
			}
			if err := w.Append(float64(i), gaussian(g, float64(i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// Reopen finds /exact and the count; the third snapshot fits, a
		// fourth does not.
		wr, err := Reopen(path)
		if err != nil {
			t.Fatal(err)
		}
		rex, err := wr.Series("/exact")
		if err != nil {
			t.Fatalf("deflate %d: Reopen: %v", deflate, err)
		}
		if err := rex.Append(gaussian(g, 2.5)); err != nil {
			t.Fatal(err)
		}
		if err := wr.Append(2, gaussian(g, 2)); err != nil {
			t.Fatal(err)
		}
		err = rex.Append(gaussian(g, 3.5))
		wantErr(t, "fourth /exact row", err, "the file was made for 3 snapshots")
		err = wr.Append(3, gaussian(g, 3))
		wantErr(t, "fourth snapshot", err, "the file was made for 3 snapshots")
		if err := wr.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		checkSnapshots(t, f, 3)
		for _, p := range []string{PathTime, PathDensity, PathMass, PathMean, PathCovariance, "/exact"} {
			shape, _, err := f.Dataset(p)
			if err != nil || shape[0] != 3 {
				t.Errorf("deflate %d: %s: shape %v (%v), want 3 rows", deflate, p, shape, err)
			}
		}
		f.Close()
		noOpenObjects(t)
		requirePython(t)
		got := runPython(t, filepath.Dir(path), fmt.Sprintf(`
import h5py
with h5py.File("snap%d.h5", "r") as f:
    d = f["density"]
    print(d.shape[0], d.maxshape[0], f["time"].maxshape[0], f["exact"].maxshape[0], d.id.get_create_plist().get_alloc_time())
`, deflate))
		if want := "3 3 3 3 1\n"; got != want {
			t.Errorf("deflate %d: h5py: %q, want %q (rows, maximum rows of density, time, exact; early allocation)", deflate, got, want)
		}
	}
}
