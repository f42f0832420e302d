package spec_test

import (
	"testing"

	"github.com/fokkerplanck/fokker/examples"
	"github.com/fokkerplanck/fokker/problem"
	"github.com/fokkerplanck/fokker/spec"
)

// FuzzParse feeds arbitrary text to the spec parser and, when it parses, to
// the problem builder (expression compilation, grid construction). Nothing
// may panic; errors are fine. Seeds: every built-in example and the bad
// inputs of the CLI contract.
func FuzzParse(f *testing.F) {
	for _, n := range examples.Names() {
		b, _ := examples.Spec(n)
		f.Add(string(b))
	}
	for _, s := range []string{
		"", "[grid]", "[grid]\naxes = [\"x\"]\nlower=[0]\nupper=[1]\ncells=[0]",
		"[grid]\naxes=[\"x\",\"x\"]", "[model]\ndiffusion = [[\"1\"]]",
		"[grid]\naxes=[\"x\"]\nlower=[0]\nupper=[1]\ncells=[4]\nboundary={x=[\"periodic\"]}\n[model]\ndiffusion=\"1\"",
		"[grid]\naxes=[\"x\"]\nlower=[0]\nupper=[1]\ncells=[4]\n[model]\ndrift=[\"x^^2\"]\ndiffusion=\"1\"",
		"[grid]\naxes=[\"x\"]\nlower=[0]\nupper=[1]\ncells=[4]\n[model]\ndiffusion=[1, \"x\"]",
		"[time]\nend = nan\ndt = inf",
		ou2d,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := spec.Parse([]byte(text), "fuzz.toml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		// Keep the fuzzer away from grids that are merely big.
		cells := 1
		for k := range s.Grid.Axes {
			if k < len(s.Grid.Cells) {
				cells *= max(1, s.Grid.Cells[k])
			}
		}
		for _, e := range s.Grid.Edges {
			cells *= max(1, len(e))
		}
		if cells > 1<<12 {
			return
		}
		p, err := problem.Build(s, 1<<30)
		if err != nil {
			return
		}
		if _, err := p.NewOperator(); err != nil {
			return
		}
		if s.Initial != nil {
			p.InitialDensity(make([]float64, p.Grid.Len()))
		}
	})
}
