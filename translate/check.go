package translate

import (
	"fmt"
	"strings"
	"time"
)

// checkOnly ends a CheckOnly run after setup (which chose and locked the run
// folder exactly as a generating run would, and read what it holds): the
// folder must hold a readable run of the same identity with every sample of
// the M x K rectangle, else the error says what is missing (an
// *IncompleteError naming the inputs and, for a sharded store, the shards).
// Nothing is written; sample files are not hashed (OpenStore checks that
// they exist, Store.Verify hashes them).
func (r *runner) checkOnly(start time.Time) (*Summary, error) {
	if r.prevErr != nil {
		return nil, fmt.Errorf("translate: %w", r.prevErr)
	}
	prev := r.prev.m
	if prev != nil {
		if d := differences(prev, r.man); len(d) > 0 {
			return nil, fmt.Errorf("translate: %s holds samples of a different run (%s)", r.dir, strings.Join(d, "; "))
		}
	}
	have := make([]int, len(r.inputs))
	n := 0
	if prev != nil {
		for _, s := range prev.Samples {
			if s.Input < len(r.inputs) && s.K < r.k {
				have[s.Input]++
				n++
			}
		}
	}
	e := &IncompleteError{Dir: r.dir, Inputs: len(r.inputs), SamplesPerInput: r.k, Samples: n, Shards: r.prev.shards, OtherRun: r.otherRun}
	for i, c := range have {
		if c < r.k {
			e.Missing = append(e.Missing, i)
			e.MissingFiles = append(e.MissingFiles, r.inputs[i].rec.File)
		}
	}
	if len(e.Missing) > 0 {
		return nil, e
	}
	return &Summary{Method: r.man.Method, Store: r.dir, Inputs: len(r.inputs), SamplesPerInput: r.k,
		Reused: n, Seconds: time.Since(start).Seconds(), Randomness: r.man.Randomness, Complete: true}, nil
}
