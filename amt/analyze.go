package amt

import (
	"fmt"
	"github.com/munit-eval/munit-eval/warning"
	"math"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/metrics"
	"github.com/munit-eval/munit-eval/results"
)

// SimulatedWorkerPrefix starts the WorkerId of every simulated worker
// (Simulate). A baseline whose judgments all come from such workers is
// marked Simulated in the results document.
const SimulatedWorkerPrefix = "SIMULATED-"

// AnalyzeOptions are the parameters of Analyze. DefaultAnalyzeOptions gives
// the defaults.
type AnalyzeOptions struct {
	// CatchThreshold: a worker who answered catch questions and got less than
	// this share of them right is excluded, with all their judgments.
	CatchThreshold float64
	// Resamples and Seed of the bootstrap over questions and workers.
	Resamples int
	Seed      uint64
}

// DefaultAnalyzeOptions returns catch threshold 0.8 and 2,000 bootstrap
// resamples with seed 0.
func DefaultAnalyzeOptions() AnalyzeOptions {
	return AnalyzeOptions{CatchThreshold: 0.8, Resamples: 2000}
}

// Analysis is the outcome of Analyze.
type Analysis struct {
	Reference string
	// Baselines are the per-baseline results, in the key's order.
	Baselines []BaselineResult
	// Rows counts the rows read, Rejected the Rejected assignments dropped.
	Rows, Rejected int
	// Workers counts distinct workers with at least one answer; Excluded
	// lists those dropped for failing catch questions, sorted by id.
	Workers  int
	Excluded []WorkerCatch
	// Resamples is the number of bootstrap resamples used.
	Resamples int
	// Duplicates counts answers to a question the same worker had already
	// answered (kept: the first in file order; Conflicts of them differ from
	// it). Missing counts questions of a HIT a worker submitted without
	// answering them. Neither is merged into the judgments. InProgress
	// counts the unanswered questions of HITs that local-study participants
	// started and have not finished (not missing: they may still answer).
	Duplicates, Conflicts, Missing, InProgress int
	// Warnings are things the reader must know (truncated rows, duplicates,
	// questions with fewer judgments than planned); shown under the table.
	Warnings []warning.Warning
}

// WorkerCatch is one worker's record on catch questions.
type WorkerCatch struct {
	Worker         string
	Catch, Correct int
}

// BaselineResult is the preference for one baseline over the reference.
type BaselineResult struct {
	Name string
	results.Preference
	// Short counts questions of this baseline answered by fewer workers than
	// the batch's workers per HIT (before catch exclusion).
	Short int
}

type judgment struct {
	question int
	worker   int
	answer   string
	file     string
	line     int
}

// Analyze computes the human preference of every baseline over the reference
// from the rows of one or more results files (ReadResults):
//
//  1. Rejected assignments are dropped.
//  2. Each (worker, question) keeps its first non-empty answer in the order
//     of rows; later answers are counted as duplicates (and conflicts when
//     they differ) and reported, never merged. A question of a HIT the worker
//     submitted that has no answer from that worker is counted missing; in
//     the local study, whose rows hold one answer each, the unanswered
//     questions of a started HIT are counted in progress instead.
//  3. A worker whose share of correct catch answers is below
//     opts.CatchThreshold is excluded with all their judgments.
//  4. For baseline B, over the retained judgments of the questions comparing
//     the reference with B: percent = 100·preferred/judgments, where
//     preferred counts the answers naming B's side; the 95% Wilson interval
//     on judgments (metrics.Wilson) and the 95% bootstrap interval resampling
//     questions and workers (metrics.PreferenceBootstrap), both in percent.
func Analyze(key *Key, rows []Row, opts AnalyzeOptions) (*Analysis, error) {
	if opts.Resamples < 1 {
		return nil, fmt.Errorf("amt: bootstrap resamples %d, want at least 1", opts.Resamples)
	}
	if !(opts.CatchThreshold >= 0 && opts.CatchThreshold <= 1) {
		return nil, fmt.Errorf("amt: catch threshold %g, want a share in [0, 1]", opts.CatchThreshold)
	}
	a := &Analysis{Reference: key.Reference, Resamples: opts.Resamples}
	fieldIdx := map[string]int{}
	for i, f := range key.Fields {
		fieldIdx[f] = i
	}
	// question of (hit, field index)
	qOf := make([][]int, len(key.HITs))
	for h := range qOf {
		qOf[h] = make([]int, len(key.Fields))
		for i := range qOf[h] {
			qOf[h][i] = -1
		}
	}
	for _, q := range key.Questions {
		qOf[q.HIT][fieldIdx[q.AnswerField]] = q.ID
	}
	workerIdx := map[string]int{}
	var workerNames []string
	type wq struct{ w, q int }
	first := map[wq]*judgment{}
	submitted := map[wq]bool{} // the worker submitted the question's HIT
	localOpen := map[wq]bool{} // local-study questions without an answer yet
	var order []*judgment
	for _, r := range rows {
		a.Rows++
		if r.Status == StatusRejected {
			a.Rejected++
			continue
		}
		if r.HIT < 0 || r.HIT >= len(key.HITs) || len(r.Answers) != len(key.Fields) {
			return nil, fmt.Errorf("amt: %s:%d: row does not belong to this key", r.File, r.Line)
		}
		w, ok := workerIdx[r.WorkerId]
		if !ok {
			w = len(workerNames)
			workerIdx[r.WorkerId] = w
			workerNames = append(workerNames, r.WorkerId)
		}
		for i, ans := range r.Answers {
			q := qOf[r.HIT][i]
			if q < 0 {
				continue
			}
			k := wq{w, q}
			if r.HITTypeId == LocalHITType {
				// One answer per row: the other questions of the HIT are
				// not submitted, only not answered yet.
				if ans == "" {
					if first[k] == nil {
						localOpen[k] = true
					}
					continue
				}
				delete(localOpen, k)
			} else {
				submitted[k] = true
			}
			if ans == "" {
				continue
			}
			if prev := first[k]; prev != nil {
				a.Duplicates++
				if prev.answer != ans {
					a.Conflicts++
				}
				if a.Duplicates <= 5 {
					a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%s:%d: worker %s answered question %d again (first at %s:%d); the first answer is kept", r.File, r.Line, r.WorkerId, q, prev.file, prev.line))
				}
				continue
			}
			j := &judgment{question: q, worker: w, answer: ans, file: r.File, line: r.Line}
			first[k] = j
			order = append(order, j)
		}
	}
	if a.Duplicates > 5 {
		a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%d duplicate answers in all (%d conflicting); first answers kept", a.Duplicates, a.Conflicts))
	}
	for k := range submitted {
		if first[k] == nil {
			a.Missing++
		}
	}
	for k := range localOpen {
		if first[k] == nil && !submitted[k] {
			a.InProgress++
		}
	}
	if a.InProgress > 0 {
		a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%d questions of local-study HITs that participants started are not answered yet (in progress, not counted)", a.InProgress))
	}
	if a.Missing > 0 {
		a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%d questions were submitted without an answer (missing answers, not counted)", a.Missing))
	}
	if a.Rejected > 0 {
		a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%d rejected assignments dropped", a.Rejected))
	}
	a.Workers = len(workerNames)

	// Catch questions.
	catch := make([]WorkerCatch, len(workerNames))
	for w := range catch {
		catch[w].Worker = workerNames[w]
	}
	for _, j := range order {
		q := key.Questions[j.question]
		if !q.Catch {
			continue
		}
		catch[j.worker].Catch++
		if j.answer == *q.Correct {
			catch[j.worker].Correct++
		}
	}
	excluded := make([]bool, len(workerNames))
	noCatch, allOrNothing := 0, 0
	for w, c := range catch {
		if c.Catch == 0 {
			noCatch++
			continue
		}
		if failsCatch(c.Correct, c.Catch, opts.CatchThreshold) {
			excluded[w] = true
			a.Excluded = append(a.Excluded, c)
			if need := CatchToleratingMiss(opts.CatchThreshold); c.Correct == c.Catch-1 && c.Catch < need {
				allOrNothing++
			}
		}
	}
	if allOrNothing > 0 {
		a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference,
			"%d workers were excluded for a single wrong catch answer: with fewer than %d catch questions the %.0f%% threshold allows no miss (see amt make --catch)",
			allOrNothing, CatchToleratingMiss(opts.CatchThreshold), 100*opts.CatchThreshold))
	}
	sort.Slice(a.Excluded, func(i, j int) bool { return a.Excluded[i].Worker < a.Excluded[j].Worker })
	if noCatch > 0 && key.Params.CatchPerHIT > 0 {
		a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%d workers answered no catch question and could not be checked", noCatch))
	}

	// Answers per question before exclusion, for the planned-workers check.
	answers := map[int]int{}
	for _, j := range order {
		answers[j.question]++
	}

	// Per baseline.
	for bi, b := range key.Params.Baselines {
		res := BaselineResult{Name: b}
		var js []metrics.Judgment
		questions := map[int]int{}
		workers := map[int]bool{}
		excl := map[int]bool{}
		simulated := true
		for _, j := range order {
			q := key.Questions[j.question]
			if q.Catch || !(q.Left == b || q.Right == b) {
				continue
			}
			if excluded[j.worker] {
				excl[j.worker] = true
				continue
			}
			side := AnswerLeft
			if q.Right == b {
				side = AnswerRight
			}
			prefer := j.answer == side
			js = append(js, metrics.Judgment{Question: j.question, Worker: j.worker, Prefer: prefer})
			if prefer {
				res.Preferred++
			}
			questions[j.question]++
			workers[j.worker] = true
			simulated = simulated && strings.HasPrefix(workerNames[j.worker], SimulatedWorkerPrefix)
		}
		planned := 0
		for _, q := range key.Questions {
			if !q.Catch && (q.Left == b || q.Right == b) {
				planned++
				if answers[q.ID] < key.Params.Workers {
					res.Short++
				}
			}
		}
		res.Judgments = len(js)
		res.Questions = len(questions)
		res.Workers = len(workers)
		res.ExcludedWorkers = len(excl)
		if res.Judgments == 0 {
			a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%s: no judgments", b))
			res.Percent, res.Wilson, res.Bootstrap = math.NaN(), [2]float64{math.NaN(), math.NaN()}, [2]float64{math.NaN(), math.NaN()}
		} else {
			res.Percent = 100 * float64(res.Preferred) / float64(res.Judgments)
			lo, hi := metrics.Wilson(res.Preferred, res.Judgments, metrics.Z95)
			res.Wilson = [2]float64{100 * lo, 100 * hi}
			lo, hi = metrics.PreferenceBootstrap(js, opts.Resamples, opts.Seed+uint64(bi))
			res.Bootstrap = [2]float64{100 * lo, 100 * hi}
			res.Simulated = simulated
		}
		if res.Short > 0 {
			a.Warnings = append(a.Warnings, warning.New(CodeStudy, warning.SubjectPreference, "%s: %d of %d questions were answered by fewer than the planned %d workers", b, res.Short, planned, key.Params.Workers))
		}
		a.Baselines = append(a.Baselines, res)
	}
	return a, nil
}

// failsCatch reports whether a worker with correct of catch right answers
// falls below threshold, the share a worker must get right.
func failsCatch(correct, catch int, threshold float64) bool {
	return float64(correct) < threshold*float64(catch)
}

// CatchToleratingMiss returns the fewest catch questions with which a
// worker who gets one of them wrong still meets threshold: the least n
// with (n-1)/n >= threshold, 5 for the default 80% (with 1 to 4 the
// threshold is all or nothing). It returns 0 when no n up to MaxPerHIT
// tolerates a miss (a threshold of 1, or within 1/1000 of it).
func CatchToleratingMiss(threshold float64) int {
	for n := 1; n <= MaxPerHIT; n++ {
		if !failsCatch(n-1, n, threshold) {
			return n
		}
	}
	return 0
}

// Codes of the warnings of an analysis.
const (
	// CodeStudy: something about the answers (duplicates, missing, short
	// questions, unchecked workers).
	CodeStudy = "study"
	// CodeSimulated: judgments from simulated workers (the demo).
	CodeSimulated = "simulated"
)

// Document returns the results document of the analysis: Method is the
// reference, Metrics.Preference holds one entry per baseline with judgments,
// and the warnings travel with it. A baseline without judgments is left out
// (absent, never zero).
func (a *Analysis) Document(key *Key, dataset string) *results.Document {
	d := results.New(a.Reference, dataset)
	d.Protocol.Seed = key.Params.Seed
	d.Protocol.Bootstrap = a.Resamples
	d.Metrics.Preference = map[string]results.Preference{}
	for _, b := range a.Baselines {
		if b.Judgments == 0 {
			continue
		}
		d.Metrics.Preference[b.Name] = b.Preference
	}
	d.Warnings = append(d.Warnings, a.Warnings...)
	var sim []string
	for _, b := range a.Baselines {
		if b.Simulated {
			sim = append(sim, b.Name)
		}
	}
	if len(sim) > 0 {
		d.Warnings = append(d.Warnings, warning.New(CodeSimulated, warning.SubjectPreference, "simulated judgments (%s): workers are a simulation, not people", strings.Join(sim, ", ")))
	}
	return d
}

func nan() float64 { return math.NaN() }
