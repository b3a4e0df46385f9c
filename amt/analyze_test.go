package amt

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"strings"
	"testing"
)

// simBatch is a batch for the simulation tests: 2 baselines × 150
// questions, 10 per HIT with one catch question, 5 workers per HIT.
func simBatch(t testing.TB) *Key {
	cfg := DefaultMakeConfig()
	cfg.Questions = 150
	cfg.Seed = 3
	// 50 inputs x 3 x 1 = 150 distinct comparisons with UNIT.
	_, key := testBatchN(t, 50, cfg, fakeMethod{"UNIT", 1}, fakeMethod{"BicycleGAN", 3})
	return key
}

// wilson95 is the Wilson score interval written out independently of
// metrics.Wilson (Brown, Cai & DasGupta 2001, eq. 4), in percent.
func wilson95(k, n int) [2]float64 {
	z := 1.959963984540054
	p := float64(k) / float64(n)
	nn := float64(n)
	c := (p + z*z/(2*nn)) / (1 + z*z/nn)
	h := z / (1 + z*z/nn) * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn))
	return [2]float64{100 * (c - h), 100 * (c + h)}
}

func TestSimulationRecoversPreference(t *testing.T) {
	key := simBatch(t)
	prefs := map[string]float64{"UNIT": 0.3, "BicycleGAN": 0.6}
	const careless = 3
	data, err := Simulate(key, prefs, careless, 1)
	if err != nil {
		t.Fatal(err)
	}
	rows, warns, err := ReadResults("sim.csv", bytes.NewReader(data), key)
	if err != nil || len(warns) > 0 {
		t.Fatalf("ReadResults: %v %v", err, warns)
	}
	a, err := Analyze(key, rows, DefaultAnalyzeOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Exactly the careless workers are excluded.
	var excl []string
	for _, e := range a.Excluded {
		excl = append(excl, e.Worker)
	}
	if got := strings.Join(excl, ","); got != "SIMULATED-CARELESS-01,SIMULATED-CARELESS-02,SIMULATED-CARELESS-03" {
		t.Errorf("excluded %s, want the 3 careless workers", got)
	}
	// Independent count over the attentive workers' answers.
	recs, _ := csv.NewReader(bytes.NewReader(data)).ReadAll()
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	type tally struct{ k, n int }
	want := map[string]*tally{"UNIT": {}, "BicycleGAN": {}}
	for _, rec := range recs[1:] {
		if strings.Contains(rec[col["WorkerId"]], "CARELESS") {
			continue
		}
		h := -1
		for i, row := range key.HITs {
			if row[0] == rec[col["Input.q1_input"]] && row[1] == rec[col["Input.q1_left"]] {
				h = i
			}
		}
		for _, q := range key.Questions {
			if q.HIT != h || q.Catch {
				continue
			}
			b, side := q.Left, AnswerLeft
			if b == "MUNIT" {
				b, side = q.Right, AnswerRight
			}
			want[b].n++
			if rec[col["Answer."+q.AnswerField]] == side {
				want[b].k++
			}
		}
	}
	for _, r := range a.Baselines {
		w := want[r.Name]
		if r.Judgments != w.n || r.Preferred != w.k {
			t.Errorf("%s: %d/%d judgments, independent count %d/%d", r.Name, r.Preferred, r.Judgments, w.k, w.n)
		}
		if math.Abs(r.Percent-100*float64(w.k)/float64(w.n)) > 1e-9 {
			t.Errorf("%s: percent %v", r.Name, r.Percent)
		}
		wi := wilson95(w.k, w.n)
		if math.Abs(r.Wilson[0]-wi[0]) > 1e-9 || math.Abs(r.Wilson[1]-wi[1]) > 1e-9 {
			t.Errorf("%s: Wilson %v, independent %v", r.Name, r.Wilson, wi)
		}
		p := 100 * prefs[r.Name]
		if !(r.Wilson[0] <= p && p <= r.Wilson[1]) || !(r.Bootstrap[0] <= p && p <= r.Bootstrap[1]) {
			t.Errorf("%s: true %.1f%% outside Wilson %v or bootstrap %v (estimate %.1f%%)", r.Name, p, r.Wilson, r.Bootstrap, r.Percent)
		}
		if !(r.Bootstrap[0] < r.Percent && r.Percent < r.Bootstrap[1]) {
			t.Errorf("%s: bootstrap %v does not contain the estimate %.2f", r.Name, r.Bootstrap, r.Percent)
		}
		if r.Questions != 150 || r.Workers != 15 || r.ExcludedWorkers != careless || !r.Simulated {
			t.Errorf("%s: %d questions, %d workers, %d excluded, simulated %v; want 150, 15, 3, true", r.Name, r.Questions, r.Workers, r.ExcludedWorkers, r.Simulated)
		}
	}
	doc := a.Document(key, "synthetic")
	if doc.Method != "MUNIT" || len(doc.Metrics.Preference) != 2 {
		t.Errorf("document: method %s, %d preferences", doc.Method, len(doc.Metrics.Preference))
	}
	// Without the catch filter the careless workers pull UNIT towards 50%.
	opts := DefaultAnalyzeOptions()
	opts.CatchThreshold = 0
	b, _ := Analyze(key, rows, opts)
	if len(b.Excluded) != 0 || b.Baselines[0].Percent <= a.Baselines[0].Percent {
		t.Errorf("threshold 0: %d excluded, UNIT %.1f%% (filtered %.1f%%)", len(b.Excluded), b.Baselines[0].Percent, a.Baselines[0].Percent)
	}
}

func TestSimulateBadArguments(t *testing.T) {
	_, key := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	for _, prefs := range []map[string]float64{{}, {"UNIT": 1.5}, {"UNIT": 0.5, "Other": 0.5}, {"UNIT": math.NaN()}} {
		if _, err := Simulate(key, prefs, 0, 1); err == nil {
			t.Errorf("Simulate(%v) gave no error", prefs)
		}
	}
}

// editCSV parses data, lets edit change the records, and writes them back.
func editCSV(t *testing.T, data []byte, edit func([][]string) [][]string) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = edit(recs)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(recs)
	return buf.Bytes()
}

func column(recs [][]string, name string) int {
	for i, h := range recs[0] {
		if h == name {
			return i
		}
	}
	return -1
}

func TestReadResultsBadInput(t *testing.T) {
	_, key := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	good, err := Simulate(key, map[string]float64{"UNIT": 0.4}, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	goodRows, _, err := ReadResults("good.csv", bytes.NewReader(good), key)
	if err != nil {
		t.Fatal(err)
	}
	n := len(goodRows)
	for _, tc := range []struct {
		name     string
		data     []byte
		wantErr  string // "" when the file must be read
		wantRows int
		wantWarn string
	}{
		{"BOM", append([]byte("\xef\xbb\xbf"), good...), "", n, ""},
		{"CRLF", bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")), "", n, ""},
		{"BOM and CRLF", append([]byte("\xef\xbb\xbf"), bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n"))...), "", n, ""},
		{"no final newline", bytes.TrimSuffix(good, []byte("\n")), "", n, ""},
		{"truncated last line", good[:len(good)-40], "", n - 1, "truncated last row"},
		{"truncated in a quote", append(append([]byte(nil), good...), []byte(`SIMHIT9,"unfinished`)...), "", n, "truncated last row"},
		// A quote opened mid-file and never closed swallowed every later row,
		// reported as a "truncated last row" with exit 0.
		{"unterminated quote mid-file", editLine(good, 3, func(l string) string { return strings.Replace(l, ",", `,"`, 1) }), `good.csv:3: a quoted field opened on this line is never closed`, 0, ""},
		{"bare quote mid-file", editLine(good, 4, func(l string) string { return strings.Replace(l, ",", `,x"y`, 1) }), `good.csv:4: malformed row`, 0, ""},
		{"truncated last line in a multi-line quote", append(append([]byte(nil), good...), []byte("SIMHIT9,\"unfinished\nmore")...), "never closed", 0, ""},
		{"missing WorkerId column", editCSV(t, good, func(r [][]string) [][]string {
			c := column(r, "WorkerId")
			for i := range r {
				r[i] = append(r[i][:c:c], r[i][c+1:]...)
			}
			return r
		}), `good.csv:1: no column "WorkerId"`, 0, ""},
		{"missing answer column", editCSV(t, good, func(r [][]string) [][]string {
			r[0][column(r, "Answer.q2")] = "Answer.other"
			return r
		}), `no column "Answer.q2"`, 0, ""},
		{"unknown HIT", editCSV(t, good, func(r [][]string) [][]string {
			r[3][column(r, "Input.q1_left")] = "https://example.org/b1/elsewhere.png"
			return r
		}), "good.csv:4: HIT", 0, ""},
		{"answer outside the sides", editCSV(t, good, func(r [][]string) [][]string {
			r[2][column(r, "Answer.q3")] = "middle"
			return r
		}), `good.csv:3: Answer.q3 = "middle"`, 0, ""},
		{"short row inside", editCSV(t, good, func(r [][]string) [][]string {
			r[2] = r[2][:5]
			return r
		}), "good.csv:3: 5 fields", 0, ""},
		{"bad status", editCSV(t, good, func(r [][]string) [][]string {
			r[5][column(r, "AssignmentStatus")] = "Maybe"
			return r
		}), `good.csv:6: AssignmentStatus "Maybe"`, 0, ""},
		{"empty worker", editCSV(t, good, func(r [][]string) [][]string {
			r[1][column(r, "WorkerId")] = " "
			return r
		}), "good.csv:2: empty WorkerId", 0, ""},
		{"empty file", nil, "empty file", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, warns, err := ReadResults("good.csv", bytes.NewReader(tc.data), key)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if len(rows) != tc.wantRows {
				t.Errorf("%d rows, want %d", len(rows), tc.wantRows)
			}
			if tc.wantWarn != "" && (len(warns) != 1 || !strings.Contains(warns[0].Detail, tc.wantWarn)) {
				t.Errorf("warnings %q, want one with %q", warns, tc.wantWarn)
			}
			if tc.wantWarn == "" && len(warns) > 0 {
				t.Errorf("unexpected warnings %q", warns)
			}
		})
	}
}

func TestAnalyzeDuplicatesMissingRejected(t *testing.T) {
	_, key := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	good, _ := Simulate(key, map[string]float64{"UNIT": 0.4}, 0, 2)
	base := func() []Row {
		rows, _, err := ReadResults("r.csv", bytes.NewReader(good), key)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	ref, _ := Analyze(key, base(), DefaultAnalyzeOptions())
	refJ := ref.Baselines[0].Judgments

	// A worker submitting the same HIT twice, with one answer flipped.
	rows := base()
	dup := rows[0]
	dup.Line = 999
	dup.Answers = append([]string(nil), dup.Answers...)
	for i, a := range dup.Answers {
		if a == AnswerLeft {
			dup.Answers[i] = AnswerRight
			break
		}
	}
	rows = append(rows, dup)
	a, _ := Analyze(key, rows, DefaultAnalyzeOptions())
	if a.Duplicates != len(key.Fields) || a.Conflicts != 1 || a.Baselines[0].Judgments != refJ {
		t.Errorf("duplicates %d conflicts %d judgments %d; want %d, 1, %d", a.Duplicates, a.Conflicts, a.Baselines[0].Judgments, len(key.Fields), refJ)
	}
	if !strings.Contains(strings.Join(warning.Details(a.Warnings), "\n"), "r.csv:999") {
		t.Errorf("duplicate not reported with its line: %q", a.Warnings)
	}

	// Missing answers and a rejected assignment.
	rows = base()
	rows[0].Answers[0] = ""
	rows[0].Answers[1] = ""
	rows[1].Status = StatusRejected
	a, _ = Analyze(key, rows, DefaultAnalyzeOptions())
	if a.Missing != 2 || a.Rejected != 1 {
		t.Errorf("missing %d rejected %d; want 2 and 1", a.Missing, a.Rejected)
	}
	if a.Baselines[0].Judgments >= refJ {
		t.Errorf("judgments %d, want fewer than %d", a.Baselines[0].Judgments, refJ)
	}
}

// editLine applies f to line n (1-based) of data.
func editLine(data []byte, n int, f func(string) string) []byte {
	lines := strings.Split(string(data), "\n")
	lines[n-1] = f(lines[n-1])
	return []byte(strings.Join(lines, "\n"))
}

// TestCatchToleratingMiss: the fewest catch questions with which one
// wrong answer still meets the threshold, against (n-1)/n >= t worked by
// hand: 80% needs 5 (4/5), 75% 4, 50% 2, 90% 10, 0 keeps everyone from
// one question on, and 100% never tolerates a miss.
func TestCatchToleratingMiss(t *testing.T) {
	for _, tc := range []struct {
		t    float64
		want int
	}{{0.8, 5}, {0.75, 4}, {0.5, 2}, {0.9, 10}, {0, 1}, {0.81, 6}, {1, 0}} {
		if got := CatchToleratingMiss(tc.t); got != tc.want {
			t.Errorf("threshold %g: %d catch questions, want %d", tc.t, got, tc.want)
		}
	}
}

// TestCatchAllOrNothing: with one catch question per HIT a worker who
// answers one HIT and misses it is excluded and the analysis says that a
// single miss excluded them; a worker who misses one of many (here: the
// one answering every HIT, 15 catch questions) is kept; under threshold 1
// no such warning is given, since no miss is meant to pass.
func TestCatchAllOrNothing(t *testing.T) {
	key := simBatch(t) // 1 catch question per HIT of 10
	catchOf := map[int]Question{}
	for _, q := range key.Questions {
		if q.Catch {
			catchOf[q.HIT] = q
		}
	}
	field := map[string]int{}
	for i, f := range key.Fields {
		field[f] = i
	}
	var rows []Row
	add := func(worker string, h int, missCatch bool) {
		r := Row{File: "r.csv", Line: len(rows) + 2, HIT: h, HITId: fmt.Sprint(h), AssignmentId: worker + fmt.Sprint(h), WorkerId: worker,
			Status: StatusSubmitted, WorkTime: math.NaN(), Answers: make([]string, len(key.Fields))}
		for _, q := range key.Questions {
			if q.HIT != h {
				continue
			}
			a := AnswerLeft
			if q.Catch {
				a = *q.Correct
				if missCatch {
					a = map[string]string{AnswerLeft: AnswerRight, AnswerRight: AnswerLeft}[a]
				}
			}
			r.Answers[field[q.AnswerField]] = a
		}
		rows = append(rows, r)
	}
	add("ONE-HIT", 0, true)
	for h := range key.HITs {
		add("EVERY-HIT", h, h == 3)
	}
	want := "1 workers were excluded for a single wrong catch answer: with fewer than 5 catch questions the 80% threshold allows no miss"
	a, err := Analyze(key, rows, DefaultAnalyzeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Excluded) != 1 || a.Excluded[0] != (WorkerCatch{"ONE-HIT", 1, 0}) {
		t.Errorf("excluded %+v, want ONE-HIT alone (0 of 1)", a.Excluded)
	}
	if !hasWarning(a.Warnings, want) {
		t.Errorf("warnings %v lack %q", a.Warnings, want)
	}
	o := DefaultAnalyzeOptions()
	o.CatchThreshold = 1
	if a, err = Analyze(key, rows, o); err != nil {
		t.Fatal(err)
	}
	if len(a.Excluded) != 2 || hasWarning(a.Warnings, "single wrong catch answer") {
		t.Errorf("threshold 1: excluded %+v, warnings %v", a.Excluded, a.Warnings)
	}
}

func hasWarning(ws []warning.Warning, s string) bool {
	for _, w := range ws {
		if strings.Contains(w.Detail, s) {
			return true
		}
	}
	return false
}
