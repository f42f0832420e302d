package data

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// helperEnv names the file that TestHelperWriter writes; helperNoSWMR makes
// it skip StartSWMR; helperReopen makes it Reopen the file and go on from
// its last complete snapshot.
const (
	helperEnv    = "FOKKER_DATA_TEST_WRITER"
	helperNoSWMR = "FOKKER_DATA_TEST_NO_SWMR"
	helperReopen = "FOKKER_DATA_TEST_REOPEN"
)

// TestHelperWriter is not a test: it is the writer process of the tests
// below, run as a child of the test binary when helperEnv is set. It reads
// commands from standard input: "append" appends one snapshot, "spin"
// appends until the process is killed, "close" closes the file. It prints
// "ready" once the file is in SWMR mode and "appended i" each time Append for
// snapshot i has returned.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		return
	}
	g := docGrid(t)
	var (
		w     *Writer
		exact *Series
		err   error
	)
	if os.Getenv(helperReopen) != "" {
		w, err = Reopen(path)
		if err == nil {
			exact, err = w.Series("/exact")
		}
	} else {
		w, err = NewWriter(path, g)
		if err == nil {
			exact, err = w.NewGridSeries("/exact")
		}
		if err == nil && os.Getenv(helperNoSWMR) == "" {
			err = w.StartSWMR()
		}
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ready")
	i := w.Len()
	step := func() {
		if err := exact.Append(gaussian(g, float64(i)+0.5)); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if err := w.Append(float64(i), gaussian(g, float64(i))); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Printf("appended %d\n", i)
		i++
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "append":
			step()
		case "spin":
			for {
				step()
			}
		case "close":
			if err := w.Close(); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			fmt.Println("closed")
			os.Exit(0)
		}
	}
	os.Exit(0)
}

// writerProcess is a TestHelperWriter child.
type writerProcess struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startWriter(t *testing.T, path string, swmr bool, env ...string) *writerProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	if !swmr {
		cmd.Env = append(cmd.Env, helperNoSWMR+"=1")
	}
	cmd.Env = append(cmd.Env, env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &writerProcess{t: t, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	p.expect("ready")
	return p
}

func (p *writerProcess) send(cmd string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, cmd+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

func (p *writerProcess) expect(line string) {
	p.t.Helper()
	if !p.out.Scan() {
		p.t.Fatalf("writer process ended; want %q", line)
	}
	if p.out.Text() != line {
		p.t.Fatalf("writer process printed %q, want %q", p.out.Text(), line)
	}
}

// checkSnapshots checks that f has at least n complete snapshots, all with
// the values TestHelperWriter writes.
func checkSnapshots(t *testing.T, f *File, n int) {
	t.Helper()
	g := docGrid(t)
	if f.Snapshots() < n {
		t.Fatalf("%d complete snapshots, want at least %d", f.Snapshots(), n)
	}
	_, exact, err := f.Dataset("/exact")
	if err != nil {
		t.Fatal(err)
	}
	if len(exact) < f.Snapshots()*g.Len() {
		t.Errorf("/exact has %d rows for %d snapshots", len(exact)/g.Len(), f.Snapshots())
	}
	var buf []float64
	var want Moments
	for i := 0; i < f.Snapshots(); i++ {
		p := gaussian(g, float64(i))
		if f.Times()[i] != float64(i) {
			t.Errorf("time %d = %v", i, f.Times()[i])
		}
		buf, err = f.Density(buf, i)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(buf, p) {
			t.Errorf("snapshot %d: density differs", i)
		}
		m, err := f.Moments(i)
		if err != nil {
			t.Fatal(err)
		}
		ComputeMoments(&want, g, p)
		if m.Mass != want.Mass || !slices.Equal(m.Mean, want.Mean) || !slices.Equal(m.Cov, want.Cov) {
			t.Errorf("snapshot %d: moments differ", i)
		}
		if !slices.Equal(exact[i*g.Len():(i+1)*g.Len()], gaussian(g, float64(i)+0.5)) {
			t.Errorf("snapshot %d: /exact differs", i)
		}
	}
}

// TestSWMRGoReader reads a file with Open and Refresh while another process
// appends to it.
func TestSWMRGoReader(t *testing.T) {
	path := testPath(t, "run.h5")
	w := startWriter(t, path, true)
	for i := 0; i < 2; i++ {
		w.send("append")
		w.expect(fmt.Sprintf("appended %d", i))
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.SWMR() || f.Snapshots() != 2 {
		t.Fatalf("live file: SWMR %v, %d snapshots; want true, 2", f.SWMR(), f.Snapshots())
	}
	for i := 2; i < 5; i++ {
		w.send("append")
		w.expect(fmt.Sprintf("appended %d", i))
		if err := f.Refresh(); err != nil {
			t.Fatal(err)
		}
		if f.Snapshots() != i+1 {
			t.Fatalf("after append %d and Refresh: %d snapshots", i, f.Snapshots())
		}
	}
	checkSnapshots(t, f, 5)
	w.send("close")
	w.expect("closed")
	if err := f.Refresh(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.SWMR() {
		t.Error("closed file opened in SWMR mode")
	}
	checkSnapshots(t, f, 5)
	f.Close()
	noOpenObjects(t)
}

// TestOpenLocked checks that a file whose writer has not called StartSWMR
// is not at its path yet, and the error for its temporary file, which HDF5
// locks.
func TestOpenLocked(t *testing.T) {
	if v := os.Getenv("HDF5_USE_FILE_LOCKING"); v != "" {
		t.Logf("HDF5_USE_FILE_LOCKING=%s: HDF5 may not lock files; the error checked may differ", v)
	}
	path := testPath(t, "run.h5")
	startWriter(t, path, false)
	_, err := Open(path)
	wantErr(t, "unpublished file", err, path, "no such file")
	tmp, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".run.h5.*.tmp"))
	if err != nil || len(tmp) != 1 {
		t.Fatalf("temporary files %v (%v), want one", tmp, err)
	}
	_, err = Open(tmp[0])
	wantErr(t, "locked file", err, tmp[0], "SWMR")
	noOpenObjects(t)
}

// TestCrash kills a writer process (SIGKILL) at random points while it
// appends, then checks that every snapshot it reported is in the file, intact,
// for Open and for h5py in SWMR mode, and that Recover makes the file
// readable without SWMR.
func TestCrash(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 1))
	trials := 4
	if testing.Short() {
		trials = 1
	}
	for trial := 0; trial < trials; trial++ {
		path := filepath.Join(t.TempDir(), "run.h5")
		w := startWriter(t, path, true)
		k := 1 + rnd.IntN(40)
		w.send("spin")
		for i := 0; i <= k; i++ {
			w.expect(fmt.Sprintf("appended %d", i))
		}
		// The writer is still appending: the kill lands anywhere in Append.
		if err := w.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		w.cmd.Wait()

		f, err := Open(path)
		if err != nil {
			t.Fatalf("trial %d: open after kill: %v", trial, err)
		}
		if !f.SWMR() {
			t.Errorf("trial %d: a crashed file opened without SWMR", trial)
		}
		checkSnapshots(t, f, k+1)
		n := f.Snapshots()
		t.Logf("trial %d: killed after %d reported appends; %d complete snapshots in the file", trial, k+1, n)
		f.Close()

		if trial == 0 {
			requirePython(t)
			dir := filepath.Dir(path)
			count := `
import h5py, numpy as np, sys
try:
    h5py.File("run.h5", "r")
    print("plain-open")
except OSError as e:
    print("plain-fails")
with h5py.File("run.h5", "r", libver="latest", swmr=True) as f:
    t = f["time"][:]
    n = len(t) - int(np.isnan(t[-1])) if len(t) else 0
    print(n)
`
			if got, want := runPython(t, dir, count), fmt.Sprintf("plain-fails\n%d\n", n); got != want {
				t.Errorf("h5py on the crashed file printed %q, want %q", got, want)
			}
			if err := Recover(path); err != nil {
				t.Fatal(err)
			}
			if got, want := runPython(t, dir, count), fmt.Sprintf("plain-open\n%d\n", n); got != want {
				t.Errorf("h5py after Recover printed %q, want %q", got, want)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if f.SWMR() || f.Snapshots() != n {
				t.Errorf("after Recover: SWMR %v, %d snapshots; want false, %d", f.SWMR(), f.Snapshots(), n)
			}
			f.Close()
		}
	}
	noOpenObjects(t)
	if err := Recover(filepath.Join(t.TempDir(), "nothing.h5")); err == nil || !strings.HasPrefix(err.Error(), "data: recover") {
		t.Errorf("Recover of a missing file: %v", err)
	}
}
