package amt

import (
	"bytes"
	"context"
	"io"
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
	if !strings.HasPrefix(w.String(), "wrote "+a.Config.Out+": ") || !strings.Contains(w.String(), "publish") ||
		!strings.Contains(w.String(), "  note: 1 catch question(s) per HIT") {
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

	an, _, err := AnalyzeFiles(keyPath, []string{csv}, DefaultAnalyzeOptions(), "shapes", true)
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

// TestAnalyzeDataset: the results document takes its dataset from the key
// (amt make --dataset) or --dataset; a key without one and no --dataset is
// refused, naming the key file, where a document is asked for (it was
// labelled with the placeholder "dataset"), and a --dataset contradicting
// the key is refused.
func TestAnalyzeDataset(t *testing.T) {
	root := t.TempDir()
	_, methods := writeStores(t, root, 6, []fakeMethod{{"MUNIT", 3}, {"UNIT", 1}})
	mk := func(name, dataset string) string {
		a := MakeArgs{Config: smallConfig()}
		a.Config.Reference, a.Config.Out, a.Config.Dataset = "MUNIT", filepath.Join(root, name), dataset
		for _, m := range methods {
			a.Methods = append(a.Methods, m.Name+"="+m.Store)
		}
		if err := MakeBatch(context.Background(), io.Discard, a); err != nil {
			t.Fatal(err)
		}
		keyPath := filepath.Join(a.Config.Out, KeyFile)
		if err := SimulateTo(io.Discard, SimulateArgs{Key: keyPath, Prefer: []string{"UNIT=0.4"}, Seed: 2, Out: filepath.Join(root, name+".csv")}); err != nil {
			t.Fatal(err)
		}
		return keyPath
	}
	named, unnamed := mk("named", "edges2shoes"), mk("unnamed", "")
	for _, tc := range []struct {
		key, flag string
		document  bool
		want, err string
	}{
		{named, "", true, "edges2shoes", ""},
		{named, "edges2shoes", true, "edges2shoes", ""},
		{named, "shapes", true, "", "--dataset shapes, but " + named + " was made for dataset edges2shoes"},
		{unnamed, "shapes", true, "shapes", ""},
		{unnamed, "", true, "", unnamed + " names no dataset"},
		{unnamed, "", false, "", ""}, // the table alone names no dataset
	} {
		csv := strings.TrimSuffix(filepath.Dir(tc.key), "/") + ".csv"
		_, doc, err := AnalyzeFiles(tc.key, []string{csv}, DefaultAnalyzeOptions(), tc.flag, tc.document)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s --dataset %q: error %v, want %q", tc.key, tc.flag, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s --dataset %q: %v", tc.key, tc.flag, err)
		case tc.document && doc.Dataset != tc.want:
			t.Errorf("%s --dataset %q: document dataset %q, want %q", tc.key, tc.flag, doc.Dataset, tc.want)
		}
	}
}
