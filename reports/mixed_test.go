package reports

import (
	"errors"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// TestMixedProtocols: two methods of one dataset measured with different
// seeds or counts are refused in one table, naming the files and fields,
// unless asked; values one document does not record, the real-data row
// and other datasets do not count.
func TestMixedProtocols(t *testing.T) {
	mk := func(method, ds string, seed int64, k int) *results.Document {
		d := doc(method, ds)
		d.Metrics.IS, d.Metrics.CIS = results.Float(1), results.Float(0.5)
		d.Protocol.Seed, d.Protocol.SamplesPerInput, d.Protocol.NumInputs = seed, k, 100
		return d
	}
	docs := []*results.Document{mk("MUNIT", "a", 0, 100), mk("UNIT", "a", 1, 50), mk("CycleGAN", "b", 7, 10)}
	_, err := BuildTables(docs, TableOptions{Sources: []string{"a__MUNIT.json", "a__UNIT.json", "b__CycleGAN.json"}})
	var me *MixedError
	if !errors.As(err, &me) || me.Dataset != "a" || !strings.Contains(err.Error(), "a__UNIT.json") ||
		!strings.Contains(err.Error(), "samples_per_input 100 vs 50") || !strings.Contains(err.Error(), "seed 0 vs 1") {
		t.Fatalf("mixed protocols: %v", err)
	}
	if _, err := BuildTables(docs, TableOptions{AllowMixed: true}); err != nil {
		t.Fatalf("asked for: %v", err)
	}
	docs[1].Protocol.Seed, docs[1].Protocol.SamplesPerInput = 0, 0 // not recorded: not compared
	real := mk(results.MethodRealData, "a", 5, 0)
	if _, err := BuildTables(append(docs, real), TableOptions{}); err != nil {
		t.Fatalf("alike: %v", err)
	}
}
