package sgd

import (
	"errors"
	"slices"
	"testing"

	"github.com/fokkerplanck/fokker/spec"
)

// halfSpec halves uniform axes and keeps every second edge of stretched
// ones, and declines odd counts.
func TestHalfSpec(t *testing.T) {
	const text = `
[grid]
axes = ["a", "b"]
lower = [-1.0, 0.0]
upper = [1.0, 0.0]
cells = [8, 0]
edges = { b = [0.0, 0.1, 0.3, 0.6, 1.0] }

[sgd]
loss = "0.5*(a*b*x - y)^2"
generate = { n = 10, seed = 1, columns = { x = "normal(0, 1)", y = "x" } }
learning_rate = 0.1
batch_size = 1
`
	s, err := spec.Parse([]byte(text), "half.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := FromSpec(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.halfSpec()
	if err != nil {
		t.Fatal(err)
	}
	if h.Grid.Cells[0] != 4 || !slices.Equal(h.Grid.Edges["b"], []float64{0, 0.3, 1}) {
		t.Errorf("half grid: cells %v, edges %v", h.Grid.Cells, h.Grid.Edges)
	}
	// The original is untouched.
	if s.Grid.Cells[0] != 8 || len(s.Grid.Edges["b"]) != 5 {
		t.Errorf("the spec changed: cells %v, edges %v", s.Grid.Cells, s.Grid.Edges)
	}
	hs, err := fromSpec(h, st.Data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Grid.Len() != 4*2 {
		t.Errorf("half grid has %d cells", hs.Grid.Len())
	}
	s.Grid.Edges["b"] = []float64{0, 0.5, 1, 2}
	if _, err := st.halfSpec(); !errors.Is(err, ErrNoGridCheck) {
		t.Errorf("3 stretched cells: %v", err)
	}
}
