package amt

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// SimulatedAttentive is the number of attentive simulated workers Simulate
// uses per worker slot of a HIT (the pool holds SimulatedAttentive·Workers
// attentive workers plus the careless ones).
const SimulatedAttentive = 3

// Simulate produces an MTurk batch-results CSV for key's batch answered by
// simulated workers, for the demo and the tests. Every HIT gets
// key.Params.Workers assignments from distinct workers drawn uniformly from a
// pool of SimulatedAttentive·Workers attentive workers (ids
// "SIMULATED-W001", ...) and careless careless workers
// ("SIMULATED-CARELESS-01", ...). An attentive worker answers every catch
// question correctly and prefers baseline B over the reference with
// probability prefs[B], independently for each question; a careless worker
// picks a side uniformly at random, so it fails about half of its catch
// questions. Every baseline of the key needs a probability in [0, 1]. The
// same arguments give the same bytes.
func Simulate(key *Key, prefs map[string]float64, careless int, seed uint64) ([]byte, error) {
	for _, b := range key.Params.Baselines {
		p, ok := prefs[b]
		if !ok {
			return nil, fmt.Errorf("amt: simulate: no preference for baseline %s", b)
		}
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("amt: simulate: preference %g for %s, want a probability in [0, 1]", p, b)
		}
	}
	for b := range prefs {
		found := false
		for _, x := range key.Params.Baselines {
			found = found || x == b
		}
		if !found {
			return nil, fmt.Errorf("amt: simulate: %s is no baseline of the batch", b)
		}
	}
	if careless < 0 {
		return nil, fmt.Errorf("amt: simulate: %d careless workers", careless)
	}
	W := key.Params.Workers
	if W < 1 {
		return nil, fmt.Errorf("amt: simulate: %d workers per HIT", W)
	}
	type worker struct {
		id       string
		careless bool
	}
	var pool []worker
	for i := 1; i <= SimulatedAttentive*W; i++ {
		pool = append(pool, worker{id: fmt.Sprintf("%sW%03d", SimulatedWorkerPrefix, i)})
	}
	for i := 1; i <= careless; i++ {
		pool = append(pool, worker{id: fmt.Sprintf("%sCARELESS-%02d", SimulatedWorkerPrefix, i), careless: true})
	}
	if W > len(pool) {
		return nil, fmt.Errorf("amt: simulate: %d workers per HIT but a pool of %d", W, len(pool))
	}
	rng := rand.New(rand.NewPCG(seed, 0x73696d756c617465)) // "simulate"
	fieldIdx := map[string]int{}
	for i, f := range key.Fields {
		fieldIdx[f] = i
	}
	byHIT := make([][]Question, len(key.HITs))
	for _, q := range key.Questions {
		byHIT[q.HIT] = append(byHIT[q.HIT], q)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(ResultsHeader(key))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, qs := range byHIT {
		perm := rng.Perm(len(pool))[:W]
		sort.Ints(perm)
		for a, wi := range perm {
			wk := pool[wi]
			answers := make([]string, len(key.Fields))
			for _, q := range qs {
				var ans string
				switch {
				case wk.careless:
					ans = pick(rng.IntN(2) == 0)
				case q.Catch:
					ans = *q.Correct
				default:
					base := q.Right
					if base == key.Reference {
						base = q.Left
					}
					preferBase := rng.Float64() < prefs[base]
					ans = pick((q.Left == base) == preferBase)
				}
				answers[fieldIdx[q.AnswerField]] = ans
			}
			secs := 20 + rng.IntN(100)
			accept := start.Add(time.Duration(h*W+a) * time.Minute)
			rec := []string{
				fmt.Sprintf("SIMHIT%05d", h), "SIMHITTYPE", fmt.Sprintf("SIMASSIGN%05d_%d", h, a), wk.id, StatusSubmitted,
				accept.Format(time.RFC3339), accept.Add(time.Duration(secs) * time.Second).Format(time.RFC3339), strconv.Itoa(secs),
			}
			rec = append(rec, key.HITs[h]...)
			rec = append(rec, answers...)
			w.Write(rec)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("amt: simulate: %w", err)
	}
	return buf.Bytes(), nil
}

// pick returns "left" when left, else "right".
func pick(left bool) string {
	if left {
		return AnswerLeft
	}
	return AnswerRight
}
