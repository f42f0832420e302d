package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fokkerplanck/fokker/cli"
	"github.com/fokkerplanck/fokker/data"
	"github.com/fokkerplanck/fokker/examples"
)

// fokker runs the command line in-process and returns the exit code and
// the outputs.
func fokker(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// writeExample writes a built-in example spec into dir.
func writeExample(t testing.TB, dir, name string) string {
	t.Helper()
	b, ok := examples.Spec(name)
	if !ok {
		t.Fatalf("no example %q", name)
	}
	p := filepath.Join(dir, name+".toml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	code, out, errs := fokker(t, args...)
	if code != 0 {
		t.Fatalf("fokker %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errs)
	}
	return out
}

func openFile(t testing.TB, path string) *data.File {
	t.Helper()
	f, err := data.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// exactL1 returns sum |p − exact| V over the grid of f for snapshot i (or
// the stationary density, i < 0), with exact read from /exact.
func exactL1(t testing.TB, f *data.File, i int) float64 {
	t.Helper()
	g, err := f.Grid()
	if err != nil {
		t.Fatal(err)
	}
	var p []float64
	if i < 0 {
		p, _, err = f.Stationary(nil)
	} else {
		p, err = f.Density(nil, i)
	}
	if err != nil {
		t.Fatal(err)
	}
	_, ex, err := f.Dataset("/exact")
	if err != nil {
		t.Fatal(err)
	}
	if i >= 0 {
		ex = ex[i*len(p) : (i+1)*len(p)]
	}
	s := 0.0
	for l := range p {
		s += math.Abs(p[l]-ex[l]) * g.Volume(l)
	}
	return s
}

func TestVersionAndHelp(t *testing.T) {
	out := mustRun(t, "--version")
	if !strings.Contains(out, cli.Version) {
		t.Errorf("--version printed %q", out)
	}
	out = mustRun(t, "--help")
	for _, c := range []string{"run", "steady", "inspect", "plot", "examples"} {
		if !strings.Contains(out, c) {
			t.Errorf("help does not mention %q", c)
		}
	}
	out = mustRun(t, "examples")
	for _, n := range examples.Names() {
		if !strings.Contains(out, n) {
			t.Errorf("examples list misses %q", n)
		}
	}
}

// checkPNG asserts that path is a PNG of reasonable size with some content.
func checkPNG(t testing.TB, path string) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("%s: %dx%d is too small", path, b.Dx(), b.Dy())
	}
	colours := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bb, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bb, a}] = true
		}
	}
	if len(colours) < 10 {
		t.Errorf("%s: only %d colours: blank figure?", path, len(colours))
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// buildFokker builds cmd/fokker once per test binary and returns its path.
func buildFokker(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fokker-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "fokker")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/fokkerplanck/fokker/cmd/fokker").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
