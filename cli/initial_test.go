package cli_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run can start from the density of an earlier result file; files that are
// not HDF5, truncated, or on another grid are refused with a clear error
// naming initial.file (exit 2, no output file).
func TestInitialFromFile(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first.h5")
	os.WriteFile(filepath.Join(dir, "a.toml"), []byte(goodSpec), 0o644)
	mustRun(t, "-q", "run", filepath.Join(dir, "a.toml"), "-o", first)

	cont := strings.Replace(goodSpec, `density = "exp(-(x^2 + y^2))"`, `file = "first.h5"`, 1)
	os.WriteFile(filepath.Join(dir, "b.toml"), []byte(cont), 0o644)
	second := filepath.Join(dir, "second.h5")
	mustRun(t, "-q", "run", filepath.Join(dir, "b.toml"), "-o", second)
	f1, f2 := openFile(t, first), openFile(t, second)
	last, _ := f1.Density(nil, len(f1.Times())-1)
	start, _ := f2.Density(nil, 0)
	for i := range last {
		// The last snapshot has mass 1 to round-off; normalising again
		// changes it by at most a few ulps.
		if math.Abs(last[i]-start[i]) > 1e-14*math.Abs(last[i])+1e-300 {
			t.Fatalf("cell %d: starts at %v, the earlier run ended at %v", i, start[i], last[i])
		}
	}

	// Hostile files.
	trunc := filepath.Join(dir, "trunc.h5")
	b, _ := os.ReadFile(first)
	os.WriteFile(trunc, b[:len(b)/3], 0o644)
	text := filepath.Join(dir, "text.h5")
	os.WriteFile(text, []byte("not an HDF5 file\n"), 0o644)
	other := filepath.Join(dir, "other.h5")
	os.WriteFile(filepath.Join(dir, "c.toml"), []byte(strings.Replace(goodSpec, "cells = [16, 16]", "cells = [16, 8]", 1)), 0o644)
	mustRun(t, "-q", "run", filepath.Join(dir, "c.toml"), "-o", other)
	for _, c := range []struct{ file, want string }{
		{"trunc.h5", "trunc.h5"},
		{"text.h5", "text.h5"},
		{"other.h5", "must be the same"},
		{"missing.h5", "missing.h5"},
	} {
		spec := strings.Replace(goodSpec, `density = "exp(-(x^2 + y^2))"`, `file = "`+c.file+`"`, 1)
		sp := filepath.Join(dir, "bad.toml")
		os.WriteFile(sp, []byte(spec), 0o644)
		out := filepath.Join(dir, "bad-out.h5")
		code, _, stderr := fokker(t, "run", sp, "-o", out)
		if code != 2 || !strings.Contains(stderr, "initial.file") || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q", c.file, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output file left behind", c.file)
		}
	}
}
