package data

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fokkerplanck/fokker/grid"
)

// wantErr checks that err is non-nil, starts with "data: " and contains
// every fragment.
func wantErr(t *testing.T, what string, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := err.Error()
	t.Logf("%s: %s", what, msg)
	if !strings.HasPrefix(msg, "data: ") {
		t.Errorf("%s: error %q does not start with \"data: \"", what, msg)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("%s: error %q does not contain %q", what, msg, f)
		}
	}
}

// writeFile writes a small valid transient file at path.
func writeFile(t *testing.T, path string, snapshots int) *grid.Grid {
	t.Helper()
	g := testGrid(t, 2)
	w, err := NewWriter(path, g)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < snapshots; i++ {
		if err := w.Append(float64(i), gaussian(g, float64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return g
}

// rawFile creates an HDF5 file with the given root attributes, bypassing
// Writer.
func rawFile(t *testing.T, path string, attrs map[string]any) {
	t.Helper()
	f, err := fileCreate(path, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range sortedKeys(attrs) {
		if err := attrWrite(f, k, attrs[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := fileClose(f); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }

	_, err := Open(p("missing.h5"))
	wantErr(t, "missing file", err, p("missing.h5"), "no such file")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v is not fs.ErrNotExist", err)
	}

	_, err = Open(dir)
	wantErr(t, "directory", err, dir, "directory")

	os.WriteFile(p("text.h5"), []byte("time,density\n0,1\n"), 0o644)
	_, err = Open(p("text.h5"))
	wantErr(t, "text file", err, p("text.h5"), "not an HDF5 file")

	os.WriteFile(p("empty.h5"), nil, 0o644)
	_, err = Open(p("empty.h5"))
	wantErr(t, "empty file", err, p("empty.h5"), "not an HDF5 file")

	// Truncated copies of a valid file, at several lengths.
	writeFile(t, p("good.h5"), 3)
	good, err := os.ReadFile(p("good.h5"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{8, 40, 100, len(good) / 3, len(good) / 2, len(good) - 100, len(good) - 1} {
		os.WriteFile(p("cut.h5"), good[:n], 0o644)
		f, err := Open(p("cut.h5"))
		if err == nil {
			// A cut in raw data only shows when the data are read.
			_, rerr := f.Density(nil, f.Snapshots()-1)
			f.Close()
			if rerr == nil {
				t.Errorf("file cut to %d of %d bytes opens and reads without error", n, len(good))
			}
			continue
		}
		wantErr(t, "truncated file", err, p("cut.h5"))
		if n > 100 && !strings.Contains(err.Error(), "truncated") {
			t.Errorf("file cut to %d bytes: error %q does not say truncated", n, err)
		}
	}
	noOpenObjects(t)

	rawFile(t, p("foreign.h5"), map[string]any{"title": "not ours"})
	_, err = Open(p("foreign.h5"))
	wantErr(t, "foreign file", err, p("foreign.h5"), "not a fokker-density file")

	rawFile(t, p("other.h5"), map[string]any{"format": "fokker-particles", "format_version": 1})
	_, err = Open(p("other.h5"))
	wantErr(t, "other format", err, p("other.h5"), "not a fokker-density file", "fokker-particles")

	rawFile(t, p("v2.h5"), map[string]any{"format": Format, "format_version": 2, "axes": []string{"x"}})
	_, err = Open(p("v2.h5"))
	wantErr(t, "newer version", err, p("v2.h5"), "format_version 2 is not supported")

	rawFile(t, p("v1f.h5"), map[string]any{"format": Format, "format_version": 1.0})
	_, err = Open(p("v1f.h5"))
	wantErr(t, "float version", err, p("v1f.h5"), "format_version")

	rawFile(t, p("nogrid.h5"), map[string]any{"format": Format, "format_version": 1, "axes": []string{"x"}})
	_, err = Open(p("nogrid.h5"))
	wantErr(t, "no grid", err, p("nogrid.h5"), "/grid/x")
	noOpenObjects(t)
}

func TestCreateErrors(t *testing.T) {
	g := testGrid(t, 1)
	dir := t.TempDir()

	missing := filepath.Join(dir, "no", "such", "dir", "run.h5")
	_, err := NewWriter(missing, g)
	wantErr(t, "missing directory", err, missing, "no such file or directory")

	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o644)
	_, err = NewWriter(filepath.Join(notDir, "run.h5"), g)
	wantErr(t, "parent is a file", err, filepath.Join(notDir, "run.h5"), "not a directory")

	_, err = NewWriter(dir, g)
	wantErr(t, "path is a directory", err, dir, "is a directory")

	path := filepath.Join(dir, "run.h5")
	writeFile(t, path, 1)
	_, err = NewWriter(path, g)
	wantErr(t, "existing file", err, path, "file exists")
	w, err := NewWriter(path, g, WithOverwrite())
	if err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Snapshots() != 0 || f.Dim() != 1 {
		t.Errorf("overwritten file has %d snapshots and %d axes", f.Snapshots(), f.Dim())
	}
	f.Close()

	for _, name := range []string{"time", "mean", "axis", "grid", "x y", "1x", "x/y", "", "v_edges"} {
		g, err := grid.New(grid.Uniform(name, 0, 1, 2))
		if err != nil {
			continue // the grid package refuses it already
		}
		p := filepath.Join(dir, "bad.h5")
		_, err = NewWriter(p, g)
		wantErr(t, "axis "+name, err, p, "axis name")
		if _, serr := os.Stat(p); serr == nil {
			t.Errorf("axis %q: file left behind", name)
		}
	}
	_, err = NewWriter(filepath.Join(dir, "x.h5"), g, WithHeader(Header{Extra: map[string]any{"format": "mine"}}))
	wantErr(t, "extra attribute clash", err, "format")
	_, err = NewWriter(filepath.Join(dir, "y.h5"), g, WithHeader(Header{Extra: map[string]any{"bad": struct{}{}}}))
	wantErr(t, "unsupported attribute type", err, "unsupported attribute type")
	if _, serr := os.Stat(filepath.Join(dir, "y.h5")); serr == nil {
		t.Error("failed NewWriter left its file behind")
	}
	noOpenObjects(t)
}

func TestCreateReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("running as root, which may write into read-only directories: only the missing and non-directory cases (TestCreateErrors) apply")
		return
	}
	dir := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	path := filepath.Join(dir, "run.h5")
	_, err := NewWriter(path, testGrid(t, 1))
	wantErr(t, "read-only directory", err, path, "permission denied")
}

func TestAbort(t *testing.T) {
	path := testPath(t, "run.h5")
	g := testGrid(t, 1)
	w, err := NewWriter(path, g)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(0, gaussian(g, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file still there after Abort: %v", err)
	}
	wantErr(t, "Append after Abort", w.Append(1, gaussian(g, 1)), "after Close")
	noOpenObjects(t)
}

func TestWriterMisuse(t *testing.T) {
	g := testGrid(t, 2)
	path := testPath(t, "run.h5")
	w, err := NewWriter(path, g)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	v := make([]float64, 4)
	wantErr(t, "root dataset without dims", w.WriteDataset("/foo", []int{4}, v, nil), "/foo", "dimension names")
	wantErr(t, "unknown dim", w.WriteDataset("/foo", []int{4}, v, []string{"nope"}), "unknown dimension \"nope\"")
	wantErr(t, "dim length", w.WriteDataset("/foo", []int{4}, v, []string{"x"}), "dimension \"x\" has length 7")
	wantErr(t, "dim count", w.WriteDataset("/g/foo", []int{4}, v, []string{"x", "y"}), "2 dimension names for rank 1")
	wantErr(t, "existing dataset", w.WriteDataset(PathMass, []int{7}, make([]float64, 7), []string{"x"}), PathMass, "already exists")
	wantErr(t, "bad path", w.WriteDataset("/a//b", []int{4}, v, nil), "invalid dataset path")
	wantErr(t, "reserved dim", w.AddDim("time", []float64{1}), "reserved")
	if err := w.AddDim("x2", []float64{1}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "duplicate dim", w.AddDim("x2", []float64{1}), "exists")
	wantErr(t, "root attribute", w.SetAttr("/", "format", "x"), "set by NewWriter")
	wantErr(t, "missing object", w.SetAttr("/nothing", "a", 1), "/nothing")

	if err := w.StartSWMR(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "dataset after SWMR", w.WriteDataset("/g/foo", []int{4}, v, nil), "after StartSWMR")
	wantErr(t, "attribute after SWMR", w.SetAttr("/", "a", 1), "after StartSWMR")
	_, err = w.NewGridSeries("/exact")
	wantErr(t, "series after SWMR", err, "after StartSWMR")
	wantErr(t, "StartSWMR twice", w.StartSWMR(), "twice")
	if err := w.Append(0, gaussian(g, 0)); err != nil {
		t.Errorf("Append after StartSWMR: %v", err)
	}

	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"short density", func() { w.Append(1, v) }},
		{"stationary on transient", func() { w.WriteStationary(gaussian(g, 0), 0) }},
		{"nil grid", func() { NewWriter(path+"2", nil) }},
		{"deflate level", func() { WithDeflate(10) }},
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "data: ") {
					t.Errorf("%s: recovered %v, want a panic starting with \"data: \"", c.name, r)
				}
			}()
			c.fn()
		}()
	}
}
