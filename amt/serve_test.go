package amt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTestServer(t testing.TB, dir string, opts ServeOptions) *Server {
	t.Helper()
	s, err := NewServer(dir, opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func do(t testing.TB, h http.Handler, method, target, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func getState(t testing.TB, h http.Handler, pid string) studyState {
	t.Helper()
	code, b := do(t, h, http.MethodGet, "/api/next?participant="+url.QueryEscape(pid), "")
	if code != 200 {
		t.Fatalf("next: %d %s", code, b)
	}
	var st studyState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// scripted answers question q the way the scripted participant does: catch
// questions right, baseline B preferred exactly when prefer(q) is true.
func scripted(key *Key, q Question, prefer func(Question) bool) string {
	if q.Catch {
		return *q.Correct
	}
	base := q.Left
	if base == key.Reference {
		base = q.Right
	}
	if prefer(q) == (q.Left == base) {
		return AnswerLeft
	}
	return AnswerRight
}

func questionAt(key *Key, hit int, field string) Question {
	for _, q := range key.Questions {
		if q.HIT == hit && q.AnswerField == field {
			return q
		}
	}
	panic("no such question")
}

// answerAll answers up to n questions for pid through the API.
func answerAll(t testing.TB, h http.Handler, key *Key, pid string, n int, prefer func(Question) bool) studyState {
	st := getState(t, h, pid)
	for i := 0; i < n && !st.Done; i++ {
		q := questionAt(key, st.Question.HIT, st.Question.Field)
		body := fmt.Sprintf(`{"participant":%q,"hit":%d,"field":%q,"answer":%q}`, pid, q.HIT, q.AnswerField, scripted(key, q, prefer))
		code, b := do(t, h, http.MethodPost, "/api/answer", body)
		if code != 200 {
			t.Fatalf("answer %d: %d %s", i, code, b)
		}
		st = studyState{}
		json.Unmarshal(b, &st)
	}
	return st
}

// expectedPercent is the scripted participant's preference for base.
func expectedPercent(key *Key, base string, prefer func(Question) bool) float64 {
	k, n := 0, 0
	for _, q := range key.Questions {
		if !q.Catch && (q.Left == base || q.Right == base) {
			n++
			if prefer(q) {
				k++
			}
		}
	}
	return 100 * float64(k) / float64(n)
}

func TestServeStudyFlowAndResume(t *testing.T) {
	dir, key := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1}, fakeMethod{"BicycleGAN", 2})
	prefer := func(q Question) bool { return q.ID%3 == 0 }
	s := newTestServer(t, dir, ServeOptions{})
	total := len(key.Questions)
	st := answerAll(t, s, key, "=cmd@x+1", total/2, prefer)
	if st.Answered != total/2 || st.Total != total || st.Done {
		t.Fatalf("after half: %+v", st)
	}
	// A crash in the middle of a write leaves a torn line; a restart repairs
	// it and resumes at the same question.
	s.Close()
	f, _ := os.OpenFile(filepath.Join(dir, LocalResultsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("local-0,local,torn")
	f.Close()
	s2 := newTestServer(t, dir, ServeOptions{})
	st2 := getState(t, s2, "=cmd@x+1")
	if st2.Answered != st.Answered || st2.Question.HIT != st.Question.HIT || st2.Question.Field != st.Question.Field {
		t.Fatalf("resume: %+v, was %+v", st2, st)
	}
	st = answerAll(t, s2, key, "=cmd@x+1", total, prefer)
	if !st.Done || st.Answered != total {
		t.Fatalf("end: %+v", st)
	}
	// The CSV is MTurk's layout, injection-safe, and analyses to the script.
	data, _ := os.ReadFile(filepath.Join(dir, LocalResultsFile))
	if !bytes.Contains(data, []byte(",'=cmd@x+1,")) {
		t.Errorf("participant id not defused in the CSV")
	}
	rows, warns, err := ReadResults(LocalResultsFile, bytes.NewReader(data), key)
	if err != nil || len(warns) > 0 {
		t.Fatalf("ReadResults: %v %v", err, warns)
	}
	a, err := Analyze(key, rows, DefaultAnalyzeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Missing != 0 || a.Duplicates != 0 || len(a.Excluded) != 0 {
		t.Errorf("missing %d duplicates %d excluded %d", a.Missing, a.Duplicates, len(a.Excluded))
	}
	for _, b := range a.Baselines {
		if want := expectedPercent(key, b.Name, prefer); b.Percent != want {
			t.Errorf("%s: %.2f%%, scripted %.2f%%", b.Name, b.Percent, want)
		}
	}
}

func TestServeOnlyBatchFiles(t *testing.T) {
	dir, key := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	s := newTestServer(t, dir, ServeOptions{})
	var name string
	for n := range key.Images {
		name = n
		break
	}
	code, body := do(t, s, http.MethodGet, "/images/"+name, "")
	want, _ := os.ReadFile(filepath.Join(dir, ImagesDir, name))
	if code != 200 || !bytes.Equal(body, want) {
		t.Errorf("image: %d, %d bytes", code, len(body))
	}
	secret := []byte(key.Secret)
	for _, p := range []string{
		"/key.json", "/images/../key.json", "/images/..%2fkey.json", "/images/%2e%2e/key.json",
		"/images/", "/images/" + strings.ToUpper(name), "/batch.csv", "/local-results.csv",
		"/static/../key.json", "/static/index.html", "/images//etc/passwd", "/hit.html",
	} {
		code, body := do(t, s, http.MethodGet, p, "")
		if code == 200 || bytes.Contains(body, secret) {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	for _, p := range []string{"/", "/study?participant=alice", "/static/study.js", "/static/study.css"} {
		if code, _ := do(t, s, http.MethodGet, p, ""); code != 200 {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	// The study page escapes the participant id.
	if code, _ := do(t, s, http.MethodGet, "/study?participant=%3Cscript%3E", ""); code != 400 {
		t.Errorf("bad participant page: %d", code)
	}
}

func TestServeRejectsMalformedAnswers(t *testing.T) {
	dir, _ := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	s := newTestServer(t, dir, ServeOptions{})
	st := getState(t, s, "p1")
	q := st.Question
	ok := fmt.Sprintf(`{"participant":"p1","hit":%d,"field":%q,"answer":"left"}`, q.HIT, q.Field)
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"not JSON", `left`, 400},
		{"empty", ``, 400},
		{"array", `[1]`, 400},
		{"unknown field", strings.Replace(ok, `"answer"`, `"extra":1,"answer"`, 1), 400},
		{"trailing data", ok + `{}`, 400},
		{"answer up", strings.Replace(ok, `"left"`, `"up"`, 1), 400},
		{"answer Left", strings.Replace(ok, `"left"`, `"Left"`, 1), 400},
		{"no hit", fmt.Sprintf(`{"participant":"p1","field":%q,"answer":"left"}`, q.Field), 400},
		{"negative hit", fmt.Sprintf(`{"participant":"p1","hit":-1,"field":%q,"answer":"left"}`, q.Field), 400},
		{"bad participant", strings.Replace(ok, `"p1"`, `"a,b\n"`, 1), 400},
		{"long participant", strings.Replace(ok, `"p1"`, `"`+strings.Repeat("a", 65)+`"`, 1), 400},
		{"bad field", strings.Replace(ok, `"`+q.Field+`"`, `"q1\"x"`, 1), 400},
		{"huge", `{"participant":"` + strings.Repeat("a", 5000) + `"}`, 400},
		{"other question", fmt.Sprintf(`{"participant":"p1","hit":%d,"field":"q4","answer":"left"}`, q.HIT+1), 409},
		{"good", ok, 200},
		{"twice", ok, 409},
	} {
		code, body := do(t, s, http.MethodPost, "/api/answer", tc.body)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/api/answer", strings.NewReader(ok))
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 400 {
		t.Errorf("text/plain answer: %d", rec.Code)
	}
	if code, _ := do(t, s, http.MethodGet, "/api/answer", ""); code != 405 {
		t.Errorf("GET /api/answer: %d", code)
	}
	data, _ := os.ReadFile(filepath.Join(dir, LocalResultsFile))
	if n := bytes.Count(data, []byte("\n")); n != 2 {
		t.Errorf("local-results.csv has %d lines, want header + 1 answer", n)
	}
}

func TestServeSpreadsParticipants(t *testing.T) {
	dir, key := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	s := newTestServer(t, dir, ServeOptions{HITs: 1})
	seen := map[int]bool{}
	for i := range len(key.HITs) {
		st := answerAll(t, s, key, fmt.Sprintf("p%d", i), 100, func(Question) bool { return true })
		if !st.Done || st.Total != len(key.Fields) {
			t.Fatalf("participant %d: %+v", i, st)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, LocalResultsFile))
	rows, _, err := ReadResults("local", bytes.NewReader(data), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		seen[r.HIT] = true
	}
	if len(seen) != len(key.HITs) {
		t.Errorf("%d participants with one HIT each covered %d of %d HITs", len(key.HITs), len(seen), len(key.HITs))
	}
}

func TestServeRefusesForeignResults(t *testing.T) {
	dir, _ := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	os.WriteFile(filepath.Join(dir, LocalResultsFile), []byte("a,b,c\n1,2,3\n"), 0o644)
	if _, err := NewServer(dir, ServeOptions{}); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("err = %v", err)
	}
}

// TestAnalyzeParticipantInProgress: a local-study participant who has
// answered 2 of the 4 questions of their HIT has 2 questions in progress,
// not 2 submitted without an answer (they were counted missing).
func TestAnalyzeParticipantInProgress(t *testing.T) {
	dir, key := testBatch(t, smallConfig(), fakeMethod{"UNIT", 1})
	s := newTestServer(t, dir, ServeOptions{HITs: 1})
	answerAll(t, s, key, "busy", 2, func(Question) bool { return true })
	answerAll(t, s, key, "finished", 100, func(Question) bool { return true })
	data, _ := os.ReadFile(filepath.Join(dir, LocalResultsFile))
	rows, _, err := ReadResults("local", bytes.NewReader(data), key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(key, rows, DefaultAnalyzeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Missing != 0 || a.InProgress != len(key.Fields)-2 {
		t.Errorf("missing %d, in progress %d; want 0 and %d", a.Missing, a.InProgress, len(key.Fields)-2)
	}
	found := false
	for _, w := range a.Warnings {
		found = found || strings.Contains(w.Detail, "in progress")
	}
	if !found {
		t.Errorf("no in-progress warning in %q", a.Warnings)
	}
}

// TestServePractice: before a participant's first answer the API offers a
// practice question, a catch question of another HIT than theirs with its
// right side (checked against the key); after the first answer it offers
// none, and a batch without catch questions has none.
func TestServePractice(t *testing.T) {
	cfg := smallConfig()
	cfg.Questions = 5
	dir, key := testBatch(t, cfg, fakeMethod{"UNIT", 1}, fakeMethod{"BicycleGAN", 2})
	s := newTestServer(t, dir, ServeOptions{HITs: 1})
	st := getState(t, s, "p1")
	if st.Practice == nil {
		t.Fatal("no practice question before the first answer")
	}
	found := false
	for _, q := range key.Questions {
		if !q.Catch {
			continue
		}
		for i, f := range key.Fields {
			u := s.local[q.HIT][i]
			if f == q.AnswerField && u[1] == st.Practice.Left && u[2] == st.Practice.Right {
				found = true
				if q.HIT == st.Question.HIT || *q.Correct != st.Practice.Correct || u[0] != st.Practice.Input {
					t.Errorf("practice from HIT %d (participant's %d), correct %s (key %s)", q.HIT, st.Question.HIT, st.Practice.Correct, *q.Correct)
				}
			}
		}
	}
	if !found {
		t.Errorf("practice %+v is no catch question of the batch", st.Practice)
	}
	if st = answerAll(t, s, key, "p1", 1, func(Question) bool { return true }); st.Practice != nil || st.Answered != 1 {
		t.Errorf("after one answer: %d answered, practice %+v", st.Answered, st.Practice)
	}
	cfg.Catch = 0
	dir, _ = testBatch(t, cfg, fakeMethod{"UNIT", 1}, fakeMethod{"BicycleGAN", 2})
	if st := getState(t, newTestServer(t, dir, ServeOptions{}), "p2"); st.Practice != nil {
		t.Errorf("a batch without catch questions offers practice %+v", st.Practice)
	}
}
