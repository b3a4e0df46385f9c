package amt

// What the amt commands do beyond parsing their flags: reading method and
// preference lists, making and summarising a batch, analysing result files
// into a table, serving a study until the context ends, and writing
// simulated answers.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/table"
	"github.com/munit-eval/munit-eval/translate"
	"github.com/munit-eval/munit-eval/warning"
)

// ParseMethods reads the compared methods, each NAME=STORE/<method> or a
// bare STORE/<method> named by its manifest.
func ParseMethods(specs []string) ([]Method, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("no --method given")
	}
	var out []Method
	for _, m := range specs {
		name, dir, ok := strings.Cut(m, "=")
		if !ok {
			s, err := translate.OpenStore(m)
			if err != nil {
				return nil, err
			}
			name, dir = s.Method(), m
		}
		if name == "" || dir == "" {
			return nil, fmt.Errorf("--method %q: want NAME=STORE/<method>", m)
		}
		out = append(out, Method{Name: name, Store: dir})
	}
	return out, nil
}

// MakeArgs are amt make's settings as given: the compared methods, each
// NAME=STORE/<method> or a bare STORE/<method> (ParseMethods), and the
// rest of the batch's configuration.
type MakeArgs struct {
	Methods []string
	Config  MakeConfig
}

// MakeBatch is amt make's work: it designs the batch a asks for, writes it
// and writes its summary (Summary) to w.
func MakeBatch(ctx context.Context, w io.Writer, a MakeArgs) error {
	methods, err := ParseMethods(a.Methods)
	if err != nil {
		return err
	}
	a.Config.Methods = methods
	design, err := DesignBatch(a.Config)
	if err != nil {
		return err
	}
	key, err := design.Write(ctx)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, design.Summary(key))
	return err
}

// Summary says what a written batch holds, its design's notes, and what to
// do next (NextSteps).
func (d *Design) Summary(key *Key) string {
	var b strings.Builder
	catch := 0
	for _, q := range key.Questions {
		if q.Catch {
			catch++
		}
	}
	fmt.Fprintf(&b, "wrote %s: %d HITs of %d questions (%d comparisons with %s, %d catch), %d images\n",
		d.cfg.Out, len(key.HITs), key.Params.PerHIT, len(key.Questions)-catch, key.Reference, catch, len(key.Images))
	for _, w := range d.Warnings {
		fmt.Fprintf(&b, "  note: %s\n", w)
	}
	return b.String() + NextSteps(d.cfg.Out, key)
}

// NextSteps says what to do with the batch in dir: where its images must
// be served from (relative URLs work for amt serve only) and what to
// publish and keep private.
func NextSteps(dir string, key *Key) string {
	var b strings.Builder
	imgs := filepath.Join(dir, ImagesDir) + string(filepath.Separator)
	if key.Params.BaseURL == "" {
		fmt.Fprintf(&b, "  local study: munit-eval amt serve %s (batch.csv points at the images by the relative URLs %s/NAME)\n", dir, ImagesDir)
		fmt.Fprintf(&b, "  for MTurk: put the files of %s on a web server and make the batch again with --base-url set to their URL\n", imgs)
	} else {
		fmt.Fprintf(&b, "  for MTurk: upload the files of %s so that each is served at %s/NAME\n", imgs, strings.TrimRight(key.Params.BaseURL, "/"))
	}
	fmt.Fprintf(&b, "  publish %s with the layout %s, %d assignments per HIT; keep %s private\n",
		filepath.Join(dir, BatchCSVFile), filepath.Join(dir, HITFile), key.Params.Workers, filepath.Join(dir, KeyFile))
	return b.String()
}

// AnalyzeFiles analyses the result files (MTurk's and the local study's)
// of the batch whose answer key is at keyPath, into the analysis and its
// results document, the files' warnings first. The document's dataset is
// the key's (amt make --dataset) or dataset; with document set (the
// document is written or printed), a key without one and no dataset is
// refused before any file is read (KeyDataset).
func AnalyzeFiles(keyPath string, files []string, o AnalyzeOptions, dataset string, document bool) (*Analysis, *results.Document, error) {
	key, err := ReadKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	dataset, err = KeyDataset(keyPath, key, dataset)
	if err != nil && document {
		return nil, nil, err
	}
	var rows []Row
	var warns []warning.Warning
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, err
		}
		r, wr, err := ReadResults(p, f, key)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		rows, warns = append(rows, r...), append(warns, wr...)
	}
	a, err := Analyze(key, rows, o)
	if err != nil {
		return nil, nil, err
	}
	doc := a.Document(key, dataset)
	doc.Warnings = append(warns, doc.Warnings...)
	return a, doc, nil
}

// KeyDataset returns the dataset of the batch whose key (read from
// keyPath) is key: the one amt make recorded, or flag. A flag that
// contradicts the key, or neither, is an error naming the key file: a
// results document labelled with the placeholder "dataset" would join no
// other document of the dataset in a report or gate.
func KeyDataset(keyPath string, key *Key, flag string) (string, error) {
	switch k := key.Params.Dataset; {
	case k != "" && flag != "" && k != flag:
		return "", fmt.Errorf("amt: --dataset %s, but %s was made for dataset %s", flag, keyPath, k)
	case k != "":
		return k, nil
	case flag != "":
		return flag, nil
	}
	return "", fmt.Errorf("amt: %s names no dataset (the batch was made without amt make --dataset): give --dataset NAME for the results document", keyPath)
}

// TableHeader and TableRows are the analysis as a table: one row per
// baseline, the reference at 50%.
func (a *Analysis) TableHeader() []string {
	return []string{"method", "preferred over " + a.Reference + " %", "Wilson 95%", "bootstrap 95%", "judgments", "questions", "workers", "excluded"}
}

// TableRows are the rows of TableHeader's table.
func (a *Analysis) TableRows() [][]string {
	rows := [][]string{{a.Reference, "50.0 (reference)", "", "", "", "", "", ""}}
	for _, b := range a.Baselines {
		name := b.Name
		if b.Simulated {
			name += " (simulated)"
		}
		if b.Judgments == 0 {
			rows = append(rows, []string{name, "-", "", "", "0", "0", "0", strconv.Itoa(b.ExcludedWorkers)})
			continue
		}
		rows = append(rows, []string{name, fmt.Sprintf("%.1f", b.Percent),
			fmt.Sprintf("[%.1f, %.1f]", b.Wilson[0], b.Wilson[1]), fmt.Sprintf("[%.1f, %.1f]", b.Bootstrap[0], b.Bootstrap[1]),
			strconv.Itoa(b.Judgments), strconv.Itoa(b.Questions), strconv.Itoa(b.Workers), strconv.Itoa(b.ExcludedWorkers)})
	}
	return rows
}

// WriteTable writes the analysis as a table folded to width (0: whole),
// followed by its Counts.
func (a *Analysis) WriteTable(w io.Writer, width int) error {
	if err := table.Plain(a.TableHeader(), a.TableRows()).Text(w, table.TextOptions{Width: width}); err != nil {
		return err
	}
	_, err := io.WriteString(w, a.Counts())
	return err
}

// Counts says, under the table, what the answers held and who was excluded.
func (a *Analysis) Counts() string {
	s := fmt.Sprintf("%d rows (%d rejected), %d workers, %d excluded for failing catch questions; %d duplicate answers (%d conflicting), %d missing, %d in progress\n",
		a.Rows, a.Rejected, a.Workers, len(a.Excluded), a.Duplicates, a.Conflicts, a.Missing, a.InProgress)
	for _, e := range a.Excluded {
		s += fmt.Sprintf("  excluded %s: %d of %d catch questions right\n", e.Worker, e.Correct, e.Catch)
	}
	return s
}

// ListenAndServe serves the batch in dir as a local study on addr until
// ctx ends (then it returns ctx's error), each participant answering hits
// HITs; it says where on log, and warns when addr is not the loopback.
func ListenAndServe(ctx context.Context, dir, addr string, hits int, log io.Writer) error {
	s, err := NewServer(dir, ServeOptions{HITs: hits, Log: log})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(log, "warning: listening on %s, reachable from other machines\n", ln.Addr())
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute}
	fmt.Fprintf(log, "local study of %s at http://%s/ (answers in %s/%s); Ctrl-C stops\n", dir, ln.Addr(), dir, LocalResultsFile)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return ctx.Err()
	}
}

// ParsePreferences reads --prefer NAME=P values: the probability that
// attentive simulated workers prefer baseline NAME over the reference.
func ParsePreferences(specs []string, key *Key) (map[string]float64, error) {
	prefs := map[string]float64{}
	for _, p := range specs {
		name, v, ok := strings.Cut(p, "=")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("--prefer %q: want NAME=PROBABILITY", p)
		}
		prefs[name] = x
	}
	if len(prefs) == 0 {
		names := append([]string(nil), key.Params.Baselines...)
		sort.Strings(names)
		return nil, fmt.Errorf("no --prefer given (baselines: %s)", strings.Join(names, ", "))
	}
	return prefs, nil
}

// SimulateArgs are amt simulate's settings as given: the answer key's
// path, the preferences as NAME=P (ParsePreferences), the careless
// workers, the seed, and the file to write ("": w).
type SimulateArgs struct {
	Key      string
	Prefer   []string
	Careless int
	Seed     uint64
	Out      string
}

// SimulateTo is amt simulate's work: it answers the batch of a.Key with
// simulated workers (Simulate) and writes the results to a.Out,
// atomically, or to w.
func SimulateTo(w io.Writer, a SimulateArgs) error {
	key, err := ReadKey(a.Key)
	if err != nil {
		return err
	}
	prefs, err := ParsePreferences(a.Prefer, key)
	if err != nil {
		return err
	}
	data, err := Simulate(key, prefs, a.Careless, a.Seed)
	if err != nil {
		return err
	}
	if a.Out == "" {
		_, err = w.Write(data)
		return err
	}
	return atomicfile.Write(a.Out, data, 0o644)
}
