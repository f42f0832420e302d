package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// Every example of the validate issue passes through `fokker validate`:
// particles and PDE consistent within 1.5× the L1 noise floor (and the
// chi-square and survival p-values above 1e-3) at every snapshot. The
// acceptance figure of 10^6 particles is run in package validation's tests;
// here 2·10^5 keep the suite fast — the noise floor scales with the count,
// so the check is as sharp relative to it.
func TestValidateExamples(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"ou1d", "cir1d", "rotation2d", "noise_gradient2d", "ring1d", "absorbing1d"} {
		spec := writeExample(t, dir, name)
		out := filepath.Join(dir, name+".h5")
		code, stdout, stderr := fokker(t, "validate", spec, "-o", out, "--particles", "200000")
		if code != 0 {
			t.Errorf("%s: exit %d\n%s\n%s", name, code, stdout, stderr)
			continue
		}
		if !strings.Contains(stdout, "particle-steps/s") || strings.Contains(stdout, "INCONSISTENT") {
			t.Errorf("%s: report\n%s", name, stdout)
		}
		checkPNG(t, filepath.Join(dir, name+".png"))
		f := openFile(t, out)
		shape, _, err := f.Dataset("/particles/histogram")
		if err != nil || shape[0] != len(f.Times()) {
			t.Errorf("%s: /particles/histogram %v, %v", name, shape, err)
		}
		for _, p := range []string{"/particles/survival", "/particles/metrics/l1", "/particles/metrics/l1_floor", "/particles/metrics/chi2_pvalue"} {
			if _, _, err := f.Dataset(p); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// A wrong pairing is caught clearly: the Itô noise-gradient PDE against
// Stratonovich (Heun) particles.
func TestValidateWrongConvention(t *testing.T) {
	dir := t.TempDir()
	spec := writeExample(t, dir, "noise_gradient2d")
	code, stdout, stderr := fokker(t, "validate", spec, "-o", filepath.Join(dir, "ng.h5"), "--particles", "200000", "--convention", "stratonovich")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "INCONSISTENT") || !strings.Contains(stderr, "particles and PDE disagree") {
		t.Errorf("report does not say so:\n%s\n%s", stdout, stderr)
	}
}
