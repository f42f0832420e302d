package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The inspect summary of a small run is compared with a golden file
// (created time pinned by SOURCE_DATE_EPOCH, the path made relative).
func TestInspectGolden(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1764000000")
	dir := t.TempDir()
	for _, c := range []struct{ name, cmd string }{{"ring1d", "run"}, {"cir1d", "steady"}} {
		spec := writeExample(t, dir, c.name)
		h5 := filepath.Join(dir, c.name+".h5")
		mustRun(t, "-q", c.cmd, spec, "-o", h5)
		// Run inspect from the directory so the printed path is relative.
		wd, _ := os.Getwd()
		os.Chdir(dir)
		out := mustRun(t, "inspect", c.name+".h5")
		os.Chdir(wd)
		out = strings.ReplaceAll(out, dir+string(filepath.Separator), "")
		// Round-off-level residuals depend on summation order: mask them.
		out = regexp.MustCompile(`residual [0-9.]+e-1[5-9]`).ReplaceAllString(out, "residual <round-off>")
		golden := filepath.Join("testdata", "inspect-"+c.name+".golden")
		if *update {
			os.WriteFile(golden, []byte(out), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./cli -run InspectGolden -update)", err)
		}
		if out != string(want) {
			t.Errorf("inspect %s differs from %s:\n%s", c.name, golden, out)
		}
	}
}
