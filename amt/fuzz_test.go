package amt

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	fuzzOnce sync.Once
	fuzzKey  *Key
	fuzzDir  string
	fuzzGood []byte
	fuzzRoot string
)

// fuzzBatch makes one small batch shared by the fuzz targets (in a folder
// removed by the test binary's exit, not by a test's cleanup, since fuzz
// workers outlive the seed run).
func fuzzBatch(f *testing.F) {
	fuzzOnce.Do(func() {
		root, err := os.MkdirTemp("", "amt-fuzz-")
		if err != nil {
			f.Fatal(err)
		}
		fuzzRoot = root
		cfg := smallConfig()
		cfg.Questions = 3
		_, methods := writeStores(f, root, 3, []fakeMethod{{"MUNIT", 2}, {"UNIT", 1}})
		cfg.Methods, cfg.Out = methods, filepath.Join(root, "batch")
		fuzzKey, err = Make(f.Context(), cfg)
		if err != nil {
			f.Fatal(err)
		}
		fuzzDir = cfg.Out
		fuzzGood, err = Simulate(fuzzKey, map[string]float64{"UNIT": 0.5}, 1, 1)
		if err != nil {
			f.Fatal(err)
		}
	})
}

// TestMain removes the fuzz targets' shared batch after all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if fuzzRoot != "" {
		os.RemoveAll(fuzzRoot)
	}
	os.Exit(code)
}

// FuzzReadResults feeds arbitrary bytes to the results reader: it must never
// panic, and whatever it accepts must be rows of the key with valid answers
// that Analyze can use.
func FuzzReadResults(f *testing.F) {
	fuzzBatch(f)
	f.Add(fuzzGood)
	f.Add(append([]byte("\xef\xbb\xbf"), bytes.ReplaceAll(fuzzGood, []byte("\n"), []byte("\r\n"))...))
	f.Add(fuzzGood[:len(fuzzGood)/2])
	f.Add([]byte("HITId,WorkerId\n\"a"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _, err := ReadResults("fuzz.csv", bytes.NewReader(data), fuzzKey)
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.HIT < 0 || r.HIT >= len(fuzzKey.HITs) || len(r.Answers) != len(fuzzKey.Fields) || r.WorkerId == "" {
				t.Fatalf("accepted a bad row: %+v", r)
			}
			for _, a := range r.Answers {
				if a != "" && a != AnswerLeft && a != AnswerRight {
					t.Fatalf("accepted answer %q", a)
				}
			}
		}
		if _, err := Analyze(fuzzKey, rows, AnalyzeOptions{CatchThreshold: 0.8, Resamples: 10}); err != nil {
			t.Fatalf("Analyze of accepted rows: %v", err)
		}
	})
}

// FuzzAnswer posts arbitrary bodies to the answer endpoint: the reply is 200,
// 400 or 409, never a server error, and the results file stays readable.
func FuzzAnswer(f *testing.F) {
	fuzzBatch(f)
	s, err := NewServer(fuzzDir, ServeOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Add([]byte(`{"participant":"p1","hit":0,"field":"q1","answer":"left"}`))
	f.Add([]byte(`{"participant":"=1+1","hit":0,"field":"q1","answer":"right"}`))
	f.Add([]byte(`{"participant":"p1","hit":1e99,"field":"q1","answer":"left"}`))
	f.Add([]byte(`{"participant":"p1","hit":0,"field":"q1","answer":"left"} x`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/answer", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 409:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
		if rec.Code == 200 {
			data, err := os.ReadFile(filepath.Join(fuzzDir, LocalResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := ReadResults("local", bytes.NewReader(data), fuzzKey); err != nil {
				t.Fatalf("results file unreadable after %q: %v", body, err)
			}
		}
	})
}
