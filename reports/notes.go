package reports

import (
	"fmt"
	"strings"

	"github.com/munit-eval/munit-eval/results"
)

// protocolGroups describes, for one dataset, each distinct protocol string
// produced by desc (one per method, "" for none) with the methods that
// used it; the methods are named only when the dataset has several.
func protocolGroups(c *collection, ds string, desc func(method string) string) []string {
	var order []string
	byDesc := map[string][]string{}
	for _, m := range c.sortedMethodsOf(ds) {
		s := desc(m)
		if s == "" {
			continue
		}
		if _, ok := byDesc[s]; !ok {
			order = append(order, s)
		}
		byDesc[s] = append(byDesc[s], m)
	}
	out := make([]string, 0, len(order))
	for _, s := range order {
		if len(order) == 1 {
			out = append(out, fmt.Sprintf("%s: %s.", ds, s))
		} else {
			out = append(out, fmt.Sprintf("%s (%s): %s.", ds, strings.Join(byDesc[s], ", "), s))
		}
	}
	return out
}

// preferenceNote describes a dataset's preference study: what Quality is,
// its interval, and the study's size per baseline.
func preferenceNote(ds, ref string, pref map[string]results.Preference, simulated bool, which PrefInterval) string {
	keys := make([]string, 0, len(pref))
	for k := range pref {
		keys = append(keys, k)
	}
	SortMethods(keys)
	study := func(p results.Preference) string {
		s := fmt.Sprintf("%d judgments", p.Judgments)
		if p.Questions > 0 {
			s += fmt.Sprintf(" on %d questions", p.Questions)
		}
		s += fmt.Sprintf(" by %d workers", p.Workers)
		if p.ExcludedWorkers > 0 {
			s += fmt.Sprintf(" (%d excluded by catch trials)", p.ExcludedWorkers)
		}
		return s
	}
	// One description when every baseline's study has the same size.
	same := true
	for _, k := range keys {
		same = same && study(pref[k]) == study(pref[keys[0]])
	}
	var desc string
	if same && len(keys) > 0 {
		desc = study(pref[keys[0]]) + " per baseline"
	} else {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + study(pref[k])
		}
		desc = strings.Join(parts, "; ")
	}
	ci := "Wilson interval on judgments (which takes them as independent)"
	if which == PrefBootstrap {
		ci = "bootstrap interval over questions and workers"
		for _, k := range keys {
			if pref[k].Bootstrap == [2]float64{} {
				ci += " (Wilson's on judgments where no bootstrap was recorded)"
				break
			}
		}
	}
	sim := ""
	if simulated {
		sim = " Judgments come from simulated workers, not people."
	}
	return fmt.Sprintf("%s: Quality is the percentage of judgments preferring the method over %s (%s itself is 50%% by construction), with a 95%% %s; %s.%s",
		ds, ref, ref, ci, desc, sim)
}
