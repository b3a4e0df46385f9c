package amt

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeSimulateAnalyzeCommands: amt make's, simulate's and analyze's
// work end to end: the batch from NAME=STORE specs with its summary, the
// simulated answers to a file and to w, and the analysis's table with
// its counts.
func TestMakeSimulateAnalyzeCommands(t *testing.T) {
	root := t.TempDir()
	_, methods := writeStores(t, root, 6, []fakeMethod{{"MUNIT", 3}, {"UNIT", 1}})
	a := MakeArgs{Config: smallConfig()}
	a.Config.Reference, a.Config.Out = "MUNIT", filepath.Join(root, "batch")
	for _, m := range methods {
		a.Methods = append(a.Methods, m.Name+"="+m.Store)
	}
	var w bytes.Buffer
	if err := MakeBatch(context.Background(), &w, a); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.String(), "wrote "+a.Config.Out+": ") || !strings.Contains(w.String(), "publish") {
		t.Errorf("summary:\n%s", w.String())
	}
	if err := MakeBatch(context.Background(), &w, MakeArgs{Config: smallConfig()}); err == nil || !strings.Contains(err.Error(), "no --method") {
		t.Errorf("no methods: %v", err)
	}

	keyPath, csv := filepath.Join(a.Config.Out, KeyFile), filepath.Join(root, "sim.csv")
	s := SimulateArgs{Key: keyPath, Prefer: []string{"UNIT=0.4"}, Careless: 1, Seed: 2, Out: csv}
	if err := SimulateTo(&w, s); err != nil {
		t.Fatal(err)
	}
	w.Reset()
	s.Out = ""
	if err := SimulateTo(&w, s); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(csv); !bytes.Equal(b, w.Bytes()) {
		t.Error("the file and w hold different answers")
	}
	if err := SimulateTo(&w, SimulateArgs{Key: keyPath}); err == nil || !strings.Contains(err.Error(), "no --prefer given (baselines: UNIT)") {
		t.Errorf("no preferences: %v", err)
	}

	an, _, err := AnalyzeFiles(keyPath, []string{csv}, DefaultAnalyzeOptions(), "shapes")
	if err != nil {
		t.Fatal(err)
	}
	w.Reset()
	if err := an.WriteTable(&w, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"preferred over MUNIT %", "50.0 (reference)", "UNIT (simulated)", "excluded for failing catch questions"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, w.String())
		}
	}
}
