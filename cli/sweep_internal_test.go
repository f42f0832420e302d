package cli

import (
	"testing"

	"github.com/fokkerplanck/fokker/sgd"
)

// The sweep's statements: where the first-order SDE parts from SGD, and
// which of those rates are grid-limited or have an unresolved first-order
// law (the product model's sweep at 200², docs/sgd.md).
func TestSweepStatements(t *testing.T) {
	rows := []sgd.SweepRow{
		{LearningRate: 0.0125, Ratio: 5.8, RatioCorrected: 5.9, Regime: "grid", FirstOrderResolved: true},
		{LearningRate: 0.025, Ratio: 7.6, RatioCorrected: 4.5, Regime: "grid", FirstOrderResolved: true},
		{LearningRate: 0.05, Ratio: 17.3, RatioCorrected: 5.1, Regime: "parted", FirstOrderResolved: true},
		{LearningRate: 0.1, Ratio: 20, RatioCorrected: 12.7, Regime: "parted", FirstOrderResolved: false},
	}
	eta, ok := partingRate(rows, func(r sgd.SweepRow) float64 { return r.Ratio })
	if !ok || eta != 0.0125 {
		t.Errorf("parting rate %v (%v), want 0.0125", eta, ok)
	}
	if g := gridLimited(rows, 0.0125); g != "0.0125, 0.025" {
		t.Errorf("grid-limited from 0.0125: %q", g)
	}
	if g := gridLimited(rows, 0.05); g != "" {
		t.Errorf("grid-limited from 0.05: %q", g)
	}
	if !unresolvedFrom(rows, 0.05) || unresolvedFrom(rows[:3], 0.0125) {
		t.Error("unresolvedFrom")
	}
	rows[0].Ratio = 1.2 // within the tolerance: parting starts at 0.025
	if eta, _ := partingRate(rows, func(r sgd.SweepRow) float64 { return r.Ratio }); eta != 0.025 {
		t.Errorf("parting rate %v, want 0.025", eta)
	}
}
