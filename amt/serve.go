package amt

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed static
var staticFS embed.FS

var pageTemplates = template.Must(template.ParseFS(staticFS, "static/*.html"))

// MaxAnswerBytes bounds the body of an answer request.
const MaxAnswerBytes = 4096

// participantRE is the syntax of a participant id. Ids may start with '=',
// '+', '-' or '@'; they are written to the CSV with a leading apostrophe then
// (see sanitizeCell), so the mapping stays one to one.
var participantRE = regexp.MustCompile(`^[A-Za-z0-9_.@+=-]{1,64}$`)

// ServeOptions are the parameters of NewServer.
type ServeOptions struct {
	// HITs is the number of HITs each participant answers (0: all of the
	// batch). Each new HIT of a participant is the one started by the fewest
	// participants so far (ties: the first), so participants spread evenly.
	HITs int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives notes (repairs of the results file); nil discards them.
	Log io.Writer
}

// Server is the local study: the batch's questions one at a time in a web
// page, answers appended to BATCH/local-results.csv. Create it with
// NewServer; it is an http.Handler. Safe for concurrent use.
type Server struct {
	dir  string
	key  *Key
	opts ServeOptions

	mu           sync.Mutex
	f            *os.File
	participants map[string]*participant // by CSV WorkerId (sanitized id)
	takers       []int                   // participants who started each HIT
	local        [][][3]string           // local image URLs of (hit, slot)
	images       map[string]string       // image name -> file path
}

// participant is one participant's progress.
type participant struct {
	hits     []int           // HITs in the order they were started
	answered map[[2]int]bool // (hit, slot)
	shown    map[[2]int]time.Time
}

// pageQuestion is what the study page shows for one question (the API's view:
// no method, no side's method).
type pageQuestion struct {
	HIT    int    `json:"hit"`
	Field  string `json:"field"`
	Input  string `json:"input"`
	Left   string `json:"left"`
	Right  string `json:"right"`
	Number int    `json:"number"`
}

// studyState is the API's answer: progress and the current question.
type studyState struct {
	Participant string        `json:"participant"`
	Answered    int           `json:"answered"`
	Total       int           `json:"total"`
	Done        bool          `json:"done"`
	Question    *pageQuestion `json:"question,omitempty"`
	// Practice is the practice question the page shows before a
	// participant's first answer (nil after it, and in a batch without
	// catch questions). It is never recorded.
	Practice *practiceQuestion `json:"practice,omitempty"`
}

// practiceQuestion is a catch question of the batch shown for practice:
// the reference's output against its block-scrambled copy, so the page
// can tell the participant which side was right and why (the scrambled
// side is plain to see, so this gives nothing away).
type practiceQuestion struct {
	Input   string `json:"input"`
	Left    string `json:"left"`
	Right   string `json:"right"`
	Correct string `json:"correct"`
}

// answerRequest is the body of POST /api/answer.
type answerRequest struct {
	Participant string `json:"participant"`
	HIT         *int   `json:"hit"`
	Field       string `json:"field"`
	Answer      string `json:"answer"`
}

// NewServer opens the batch in dir for the local study. An existing
// local-results.csv is read back (a truncated last line, left by a crash in
// the middle of a write, is cut off first), so participants resume where they
// were; the file must belong to the batch.
func NewServer(dir string, opts ServeOptions) (*Server, error) {
	key, err := ReadKey(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HITs < 0 {
		return nil, fmt.Errorf("amt: serve: %d HITs per participant", opts.HITs)
	}
	s := &Server{dir: dir, key: key, opts: opts, participants: map[string]*participant{},
		takers: make([]int, len(key.HITs)), images: map[string]string{}}
	for name := range key.Images {
		if !validImageName(name) {
			return nil, fmt.Errorf("amt: serve: %s: image name %q is not one amt make writes", KeyFile, name)
		}
		s.images[name] = filepath.Join(dir, ImagesDir, name)
	}
	s.local = make([][][3]string, len(key.HITs))
	for h, row := range key.HITs {
		for _, v := range row {
			if sanitizeCell(v) != v {
				return nil, fmt.Errorf("amt: serve: %s: hit %d value %q starts with a formula character", KeyFile, h, v)
			}
		}
		s.local[h] = make([][3]string, len(key.Fields))
		for i := range key.Fields {
			for j, v := range []string{inputVar(i + 1), leftVar(i + 1), rightVar(i + 1)} {
				c := key.variableIndex(v)
				if c < 0 {
					return nil, fmt.Errorf("amt: serve: %s: no variable %s", KeyFile, v)
				}
				name := key.imageName(row[c])
				if name == "" {
					return nil, fmt.Errorf("amt: serve: %s: hit %d: %s = %q names no image of the batch", KeyFile, h, v, row[c])
				}
				s.local[h][i][j] = "/images/" + name
			}
		}
	}
	if err := s.openResults(); err != nil {
		return nil, err
	}
	return s, nil
}

// validImageName reports whether name looks like 32 lowercase hex digits + ".png".
func validImageName(name string) bool {
	if len(name) != 36 || !strings.HasSuffix(name, ".png") {
		return false
	}
	for _, c := range name[:32] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// openResults opens (creating or repairing) local-results.csv and replays it.
func (s *Server) openResults() error {
	path := filepath.Join(s.dir, LocalResultsFile)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("amt: serve: %w", err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		cut := bytes.LastIndexByte(data, '\n') + 1
		if s.opts.Log != nil {
			fmt.Fprintf(s.opts.Log, "amt serve: %s: cutting off a truncated last line (%d bytes)\n", path, len(data)-cut)
		}
		if err := os.Truncate(path, int64(cut)); err != nil {
			return fmt.Errorf("amt: serve: repairing %s: %w", path, err)
		}
		data = data[:cut]
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("amt: serve: %w", err)
	}
	if len(data) == 0 {
		if err := writeRecord(f, ResultsHeader(s.key)); err != nil {
			f.Close()
			return fmt.Errorf("amt: serve: %s: %w", path, err)
		}
	} else {
		rows, _, err := ReadResults(path, bytes.NewReader(data), s.key)
		if err != nil {
			f.Close()
			return fmt.Errorf("amt: serve: %s does not belong to this batch: %w", path, err)
		}
		for _, r := range rows {
			p := s.participant(r.WorkerId)
			for i, a := range r.Answers {
				if a != "" {
					s.start(p, r.HIT)
					p.answered[[2]int{r.HIT, i}] = true
				}
			}
		}
	}
	s.f = f
	return nil
}

// Close closes the results file.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// participant returns the state of worker id w, creating it.
func (s *Server) participant(w string) *participant {
	p := s.participants[w]
	if p == nil {
		p = &participant{answered: map[[2]int]bool{}, shown: map[[2]int]time.Time{}}
		s.participants[w] = p
	}
	return p
}

// start records that p started HIT h.
func (s *Server) start(p *participant, h int) {
	for _, x := range p.hits {
		if x == h {
			return
		}
	}
	p.hits = append(p.hits, h)
	s.takers[h]++
}

// limit is the number of HITs a participant answers.
func (s *Server) limit() int {
	if s.opts.HITs == 0 || s.opts.HITs > len(s.key.HITs) {
		return len(s.key.HITs)
	}
	return s.opts.HITs
}

// current returns p's current (hit, slot), assigning a new HIT when p
// finished the started ones; ok is false when p is done.
func (s *Server) current(p *participant) (hit, slot int, ok bool) {
	for _, h := range p.hits {
		for i := range s.key.Fields {
			if !p.answered[[2]int{h, i}] {
				return h, i, true
			}
		}
	}
	if len(p.hits) >= s.limit() {
		return 0, 0, false
	}
	best := -1
	for h := range s.key.HITs {
		started := false
		for _, x := range p.hits {
			started = started || x == h
		}
		if !started && (best < 0 || s.takers[h] < s.takers[best]) {
			best = h
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	s.start(p, best)
	return best, 0, true
}

// state returns p's progress and current question, noting when it was shown.
func (s *Server) state(w string, p *participant) studyState {
	st := studyState{Participant: w, Answered: len(p.answered)}
	total := s.limit()
	if len(p.hits) > total {
		total = len(p.hits)
	}
	st.Total = total * len(s.key.Fields)
	h, i, ok := s.current(p)
	if !ok {
		st.Done = true
		return st
	}
	k := [2]int{h, i}
	if _, seen := p.shown[k]; !seen {
		p.shown[k] = s.opts.Now()
	}
	u := s.local[h][i]
	st.Question = &pageQuestion{HIT: h, Field: s.key.Fields[i], Number: st.Answered + 1, Input: u[0], Left: u[1], Right: u[2]}
	if st.Answered == 0 {
		st.Practice = s.practice(h)
	}
	return st
}

// practice returns the practice question of a participant whose first HIT
// is h: the first catch question of another HIT (so that it does not
// come back among their own questions when the batch has another HIT),
// else of h; nil when the batch has no catch question.
func (s *Server) practice(h int) *practiceQuestion {
	var pick *Question
	for i := range s.key.Questions {
		q := &s.key.Questions[i]
		if q.Catch && (pick == nil || pick.HIT == h && q.HIT != h) {
			pick = q
		}
	}
	if pick == nil {
		return nil
	}
	for i, f := range s.key.Fields {
		if f == pick.AnswerField {
			u := s.local[pick.HIT][i]
			return &practiceQuestion{Input: u[0], Left: u[1], Right: u[2], Correct: *pick.Correct}
		}
	}
	return nil
}

// ServeHTTP routes the study's requests:
//
//	GET  /                           participant id form
//	GET  /study?participant=ID       the study page
//	GET  /static/study.js|study.css  assets
//	GET  /images/<name>.png          images of the batch (only names in the key)
//	GET  /api/next?participant=ID    progress and current question (JSON)
//	POST /api/answer                 {"participant","hit","field","answer"} -> next state
//
// Anything else is 404; malformed requests are 400, an answer to a question
// that is not the participant's current one 409.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	switch {
	case r.URL.Path == "/":
		s.page(w, r, "index.html", nil)
	case r.URL.Path == "/study":
		id := r.URL.Query().Get("participant")
		if !participantRE.MatchString(id) {
			http.Error(w, "participant id: 1 to 64 letters, digits or _ . @ + = -", http.StatusBadRequest)
			return
		}
		s.page(w, r, "study.html", map[string]string{"Participant": id})
	case r.URL.Path == "/static/study.js" || r.URL.Path == "/static/study.css":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		b, _ := staticFS.ReadFile(strings.TrimPrefix(r.URL.Path, "/"))
		if strings.HasSuffix(r.URL.Path, ".js") {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		} else {
			h.Set("Content-Type", "text/css; charset=utf-8")
		}
		w.Write(b)
	case strings.HasPrefix(r.URL.Path, "/images/"):
		s.image(w, r)
	case r.URL.Path == "/api/next":
		s.next(w, r)
	case r.URL.Path == "/api/answer":
		s.answer(w, r)
	default:
		http.NotFound(w, r)
	}
}

// page renders one of the embedded HTML pages.
func (s *Server) page(w http.ResponseWriter, r *http.Request, name string, data any) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// image serves an image of the batch; only names listed in the key exist, so
// no path can leave the images folder.
func (s *Server) image(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/images/")
	p, ok := s.images[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(p)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// next answers GET /api/next.
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := r.URL.Query().Get("participant")
	if !participantRE.MatchString(id) {
		jsonError(w, http.StatusBadRequest, "bad participant id")
		return
	}
	s.mu.Lock()
	wid := sanitizeCell(id)
	st := s.state(id, s.participant(wid))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

// answer validates and records one answer (POST /api/answer): the body must be
// one JSON object of at most MaxAnswerBytes with a valid participant id, the
// participant's current hit and field, and "left" or "right". The answer is
// appended to local-results.csv and synced before the reply.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		jsonError(w, http.StatusBadRequest, "want Content-Type application/json")
		return
	}
	req, err := parseAnswer(http.MaxBytesReader(w, r.Body, MaxAnswerBytes))
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		jsonError(w, http.StatusServiceUnavailable, "server closed")
		return
	}
	wid := sanitizeCell(req.Participant)
	p := s.participant(wid)
	h, i, ok := s.current(p)
	if !ok {
		jsonError(w, http.StatusConflict, "all questions answered")
		return
	}
	if *req.HIT != h || req.Field != s.key.Fields[i] {
		jsonError(w, http.StatusConflict, "not the current question (answered twice?); reload")
		return
	}
	now := s.opts.Now().UTC()
	k := [2]int{h, i}
	shown, seen := p.shown[k]
	if !seen {
		shown = now
	}
	secs := int(now.Sub(shown).Round(time.Second) / time.Second)
	if secs < 0 {
		secs = 0
	}
	rec := []string{"local-" + strconv.Itoa(h), LocalHITType, "local-" + wid + "-" + strconv.Itoa(h), wid, StatusSubmitted,
		shown.UTC().Format(time.RFC3339), now.Format(time.RFC3339), strconv.Itoa(secs)}
	rec = append(rec, s.key.HITs[h]...)
	for j := range s.key.Fields {
		if j == i {
			rec = append(rec, req.Answer)
		} else {
			rec = append(rec, "")
		}
	}
	for j := range rec {
		rec[j] = sanitizeCell(rec[j])
	}
	if err := writeRecord(s.f, rec); err != nil {
		jsonError(w, http.StatusInternalServerError, "could not save the answer")
		return
	}
	p.answered[k] = true
	delete(p.shown, k)
	writeJSON(w, http.StatusOK, s.state(req.Participant, p))
}

// parseAnswer decodes and validates an answer body.
func parseAnswer(r io.Reader) (*answerRequest, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var req answerRequest
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("malformed answer: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed answer: trailing data after the object")
	}
	if !participantRE.MatchString(req.Participant) {
		return nil, errors.New("bad participant id")
	}
	if req.HIT == nil || *req.HIT < 0 {
		return nil, errors.New("missing or negative hit")
	}
	if !validName(req.Field) {
		return nil, errors.New("bad field")
	}
	if req.Answer != AnswerLeft && req.Answer != AnswerRight {
		return nil, errors.New(`answer must be "left" or "right"`)
	}
	return &req, nil
}

// writeRecord appends one CSV record to f in a single write and syncs it.
func writeRecord(f *os.File, rec []string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(rec)
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return err
	}
	return f.Sync()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b)
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
