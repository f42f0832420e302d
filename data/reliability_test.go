package data

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestPublish checks that a new file appears at its path only when it is
// complete enough for readers (StartSWMR, or Close without SWMR), that a file
// it replaces stays intact until then, and that nothing is left behind by
// Abort.
func TestPublish(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.h5")
	g := testGrid(t, 2)

	// An earlier result stays readable while its replacement is set up.
	writeFile(t, path, 2)
	w, err := NewWriter(path, g, WithOverwrite())
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 2 || !strings.HasPrefix(got[0], ".run.h5.") || !strings.HasSuffix(got[0], ".tmp") {
		t.Errorf("while setting up: directory holds %v, want the old file and one hidden temporary", got)
	}
	f, err := Open(path)
	if err != nil || f.Snapshots() != 2 {
		t.Fatalf("old file while its replacement is set up: %v", err)
	}
	f.Close()
	if err := w.StartSWMR(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"run.h5"}) {
		t.Errorf("after StartSWMR: directory holds %v", got)
	}
	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Snapshots() != 0 || f.State() != Writing {
		t.Errorf("published live file: %d snapshots, state %v; want 0, being written", f.Snapshots(), f.State())
	}
	f.Close()
	if err := w.Append(0, gaussian(g, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Snapshots() != 1 || f.State() != Closed || f.SWMR() {
		t.Errorf("closed file: %d snapshots, state %v, SWMR %v", f.Snapshots(), f.State(), f.SWMR())
	}
	f.Close()

	// Steady files (never SWMR) appear at Close; Abort leaves nothing.
	steady := filepath.Join(dir, "steady.h5")
	ws, err := NewWriter(steady, g, WithKind(Steady))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(steady); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("steady file at its path before Close: %v", err)
	}
	if err := ws.WriteStationary(gaussian(g, 0), 0); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(steady); err != nil {
		t.Errorf("steady file after Close: %v", err)
	}
	for _, swmr := range []bool{false, true} {
		wa, err := NewWriter(filepath.Join(dir, "aborted.h5"), g)
		if err != nil {
			t.Fatal(err)
		}
		if swmr {
			if err := wa.StartSWMR(); err != nil {
				t.Fatal(err)
			}
		}
		if err := wa.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"run.h5", "steady.h5"}) {
		t.Errorf("after Abort: directory holds %v", got)
	}

	// Without WithOverwrite, a file that appears meanwhile is not replaced.
	late := filepath.Join(dir, "late.h5")
	wl, err := NewWriter(late, g)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(late, []byte("someone else's"), 0o644)
	wantErr(t, "path taken meanwhile", wl.StartSWMR(), late, "file exists")
	wl.Abort()
	if b, _ := os.ReadFile(late); string(b) != "someone else's" {
		t.Errorf("file created meanwhile was replaced")
	}

	// A symbolic link: the file is written where it points.
	target := filepath.Join(dir, "target.h5")
	link := filepath.Join(dir, "link.h5")
	writeFile(t, target, 1)
	if err := os.Symlink("target.h5", link); err != nil {
		t.Fatal(err)
	}
	w, err = NewWriter(link, g, WithOverwrite())
	if err != nil {
		t.Fatal(err)
	}
	if w.Path() != link {
		t.Errorf("Path() = %s, want %s", w.Path(), link)
	}
	for i := 0; i < 3; i++ {
		w.Append(float64(i), gaussian(g, float64(i)))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v", err)
	}
	f, err = Open(target)
	if err != nil || f.Snapshots() != 3 {
		t.Fatalf("link target after writing through the link: %v", err)
	}
	f.Close()
	noOpenObjects(t)
}

// TestStates checks File.State, and that neither NewWriter, Recover nor
// Reopen touches a file that a live writer holds.
func TestStates(t *testing.T) {
	if _, known := writerAlive(os.Args[0]); !known {
		t.Skip("no open file description locks on this system: the state of a file open for writing is unknown")
	}
	path := testPath(t, "run.h5")
	w := startWriter(t, path, true)
	w.send("append")
	w.expect("appended 0")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.State() != Writing {
		t.Errorf("live file: state %v", f.State())
	}
	f.Close()
	wantErr(t, "Recover a live file", Recover(path), path, "being written")
	_, err = Reopen(path)
	wantErr(t, "Reopen a live file", err, path, "being written")
	_, err = NewWriter(path, docGrid(t), WithOverwrite())
	wantErr(t, "replace a live file", err, path, "being written")

	w.cmd.Process.Kill()
	w.cmd.Wait()
	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.State() != Crashed || !f.SWMR() {
		t.Errorf("killed writer: state %v, SWMR %v", f.State(), f.SWMR())
	}
	f.Close()
	if err := Recover(path); err != nil {
		t.Fatal(err)
	}
	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.State() != Closed || f.SWMR() {
		t.Errorf("recovered: state %v, SWMR %v", f.State(), f.SWMR())
	}
	checkSnapshots(t, f, 1)
	f.Close()
	noOpenObjects(t)
}

// TestReopen appends to a closed file and to files whose writer was killed
// in the middle of appends, in turn, and checks after each round that every
// snapshot reported is there, exactly as written, and that the per-snapshot
// datasets have no rows beyond the complete snapshots once a reopened
// writer closes.
func TestReopen(t *testing.T) {
	path := testPath(t, "run.h5")
	w := startWriter(t, path, true)
	w.send("append")
	w.expect("appended 0")
	w.send("close")
	w.expect("closed")
	w.cmd.Wait()

	rnd := rand.New(rand.NewPCG(11, 2))
	reported := 1
	for round := 0; round < 4; round++ {
		w := startWriter(t, path, true, helperReopen+"=1")
		k := 1 + rnd.IntN(6)
		w.send("spin")
		for i := reported; i < reported+k; i++ {
			w.expect(fmt.Sprintf("appended %d", i))
		}
		reported += k
		w.cmd.Process.Kill()
		w.cmd.Wait()
		f, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkSnapshots(t, f, reported)
		reported = f.Snapshots()
		f.Close()
	}
	// A last reopening closes cleanly: no rows beyond the snapshots.
	wr, err := Reopen(path)
	if err != nil {
		t.Fatal(err)
	}
	if wr.Len() != reported {
		t.Errorf("Reopen: Len %d, want %d", wr.Len(), reported)
	}
	if _, err := wr.Series("/nothing"); err == nil {
		t.Error("Series of a missing dataset: no error")
	}
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshots(t, f, reported)
	for _, p := range []string{PathTime, PathDensity, PathMass, PathMean, PathCovariance, "/exact"} {
		shape, _, err := f.Dataset(p)
		if err != nil || shape[0] != reported {
			t.Errorf("%s: shape %v (%v), want %d rows", p, shape, err, reported)
		}
	}
	if f.State() != Closed {
		t.Errorf("state %v", f.State())
	}
	f.Close()
	requirePython(t)
	got := runPython(t, filepath.Dir(path), `
import h5py
with h5py.File("run.h5", "r") as f:
    print(f["time"].shape[0], f["density"].shape[0])
`)
	if want := fmt.Sprintf("%d %d\n", reported, reported); got != want {
		t.Errorf("h5py: %q, want %q", got, want)
	}

	// Files Reopen refuses.
	dir := t.TempDir()
	steady := filepath.Join(dir, "steady.h5")
	ws, _ := NewWriter(steady, docGrid(t), WithKind(Steady))
	ws.WriteStationary(gaussian(docGrid(t), 0), 0)
	ws.Close()
	_, err = Reopen(steady)
	wantErr(t, "steady", err, steady, "steady")
	os.WriteFile(filepath.Join(dir, "text.h5"), []byte("hello"), 0o644)
	_, err = Reopen(filepath.Join(dir, "text.h5"))
	wantErr(t, "text", err, "not an HDF5 file")
	_, err = Reopen(filepath.Join(dir, "missing.h5"))
	wantErr(t, "missing", err, "no such file")
	noOpenObjects(t)
}

// TestCheckpoint writes checkpoints with the snapshots and reads back the
// one of the last complete snapshot, also when the writer stopped between
// SetCheckpoint and Append (the next checkpoint is in the other slot).
func TestCheckpoint(t *testing.T) {
	path := testPath(t, "run.h5")
	g := testGrid(t, 2)
	w, err := NewWriter(path, g)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.NewCheckpoint(); err != nil {
		t.Fatal(err)
	}
	if err := w.StartSWMR(); err != nil {
		t.Fatal(err)
	}
	mk := func(i int) *Checkpoint {
		c := &Checkpoint{Time: float64(i), Steps: 10 * i, Dt: 0.5 + float64(i), N: min(i, 2)}
		for k := 0; k < c.N; k++ {
			c.Past[k] = gaussian(g, float64(i)-0.25*float64(k+1))
			c.PastDt[k] = 0.125 * float64(k+1)
		}
		return c
	}
	for i := 0; i < 4; i++ {
		if err := w.SetCheckpoint(mk(i)); err != nil {
			t.Fatal(err)
		}
		if err := w.Append(float64(i), gaussian(g, float64(i))); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.Checkpoint()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := mk(i)
		if c.Time != want.Time || c.Steps != want.Steps || c.Dt != want.Dt || c.N != want.N || c.PastDt != want.PastDt {
			t.Errorf("snapshot %d: checkpoint %+v, want %+v", i, c, want)
		}
		for k := 0; k < c.N; k++ {
			if !slices.Equal(c.Past[k], want.Past[k]) {
				t.Errorf("snapshot %d: past density %d differs", i, k)
			}
		}
	}
	// The checkpoint of snapshot 4 is written, the snapshot is not: the
	// file still gives the one of snapshot 3.
	if err := w.SetCheckpoint(mk(4)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.Checkpoint(); err != nil || c.Time != 3 || c.Steps != 30 {
		t.Errorf("after a checkpoint without its snapshot: %+v, %v; want the one of snapshot 3", c, err)
	}
	f.Close()
	w.Close()

	// A file without checkpoints.
	plain := testPath(t, "plain.h5")
	writeFile(t, plain, 2)
	f, err = Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Checkpoint()
	wantErr(t, "no checkpoint", err, plain, "no checkpoint")
	if !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("error %v is not ErrNoCheckpoint", err)
	}
	f.Close()
	noOpenObjects(t)
}

// TestWriteFault makes the disk fail under a writer at each write and
// flush of a run in turn (testFault), and checks that the error names the
// file and the snapshot, and that the snapshots appended before stay
// readable, exactly as written.
func TestWriteFault(t *testing.T) {
	defer func() { testFault = nil }()
	g := testGrid(t, 2)
	const snaps = 4
	// Count the operations of a run without faults.
	ops := 0
	testFault = func(string) error { ops++; return nil }
	run := func(path string) (int, error) {
		w, err := NewWriter(path, g)
		if err != nil {
			return 0, err
		}
		if err := w.NewCheckpoint(); err != nil {
			w.Abort()
			return 0, err
		}
		if err := w.StartSWMR(); err != nil {
			w.Abort()
			return 0, err
		}
		for i := 0; i < snaps; i++ {
			c := &Checkpoint{Time: float64(i), N: 1, Past: [2][]float64{gaussian(g, float64(i)-0.5)}, PastDt: [2]float64{0.5}}
			if err := w.SetCheckpoint(c); err != nil {
				w.Close()
				return i, err
			}
			if err := w.Append(float64(i), gaussian(g, float64(i))); err != nil {
				w.Close()
				return i, err
			}
		}
		return snaps, w.Close()
	}
	if _, err := run(testPath(t, "clean.h5")); err != nil {
		t.Fatal(err)
	}
	total := ops
	diskFull := errors.New("no space left on device")
	for n := 1; n <= total; n++ {
		path := testPath(t, "run.h5")
		count := 0
		testFault = func(op string) error {
			count++
			if count == n {
				return fmt.Errorf("%s: %w", op, diskFull)
			}
			return nil
		}
		written, err := run(path)
		testFault = nil
		if err == nil {
			t.Errorf("fault at operation %d of %d: no error", n, total)
			continue
		}
		if !strings.HasPrefix(err.Error(), "data: ") || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "run.h5") {
			t.Errorf("fault at operation %d: error %q", n, err)
		}
		// Faults while appending name the snapshot; the others come from
		// setting up (NewWriter, NewCheckpoint) or from Close.
		if strings.Contains(err.Error(), "snapshot") && !strings.Contains(err.Error(), fmt.Sprintf("snapshot %d ", written)) {
			t.Errorf("fault at operation %d (snapshot %d): error %q names another snapshot", n, written, err)
		}
		f, err := Open(path)
		if err != nil {
			if os.IsNotExist(errors.Unwrap(errors.Unwrap(err))) || strings.Contains(err.Error(), "no such file") {
				if written > 0 {
					t.Errorf("fault at operation %d: %d snapshots written, but no file", n, written)
				}
				continue
			}
			t.Fatalf("fault at operation %d: %v", n, err)
		}
		if f.Snapshots() < written {
			t.Errorf("fault at operation %d: %d snapshots in the file, %d were written", n, f.Snapshots(), written)
		}
		var buf []float64
		for i := 0; i < f.Snapshots(); i++ {
			buf, err = f.Density(buf, i)
			if err != nil || !slices.Equal(buf, gaussian(g, float64(i))) || f.Times()[i] != float64(i) {
				t.Errorf("fault at operation %d: snapshot %d damaged (%v)", n, i, err)
			}
		}
		f.Close()
	}
	noOpenObjects(t)
}

// TestReadBounds checks that damaged sizes are refused before anything is
// allocated for them.
func TestReadBounds(t *testing.T) {
	if n, ok := checkedProd([]int{1 << 40, 1 << 30}); ok {
		t.Errorf("checkedProd overflow not detected: %d", n)
	}
	if vectorLimit(10) != 1<<16 || vectorLimit(1<<30) != 1<<30 {
		t.Errorf("vectorLimit: %d %d", vectorLimit(10), vectorLimit(1<<30))
	}
	_ = math.MaxInt
}
