package translate

// Assembling a method folder's manifest from manifest.json and the shard
// fragments that sharded runs write beside it.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// assembly is what a method folder holds: the manifest put together from
// manifest.json and every fragment.
type assembly struct {
	// m is the assembled manifest (nil: neither manifest.json nor a
	// fragment); its Shard is nil.
	m *Manifest
	// base reports whether manifest.json exists; fragments are the
	// fragment file names, in order, and shards their shards.
	base      bool
	fragments []string
	shards    []Shard
}

// readStore reads dir's manifest.json (if any) and fragments (if any) and
// merges them: every part must describe the same run (differences), the
// inputs are the longest list, K the largest, and the samples the union,
// sorted by (input, k); one sample listed twice with different SHA-256 is
// an error. A part that cannot be read is an error naming its file, unless
// salvage: then its intact part is used (salvageManifest).
func readStore(dir string, salvage bool) (*assembly, error) {
	a := &assembly{}
	var parts []*Manifest
	read := readManifest
	if salvage {
		read = readOrSalvage
	}
	base, err := read(filepath.Join(dir, ManifestName))
	switch {
	case err == nil:
		a.base = true
		parts = append(parts, base)
	case !errors.Is(err, os.ErrNotExist):
		return nil, &DamagedError{Path: filepath.Join(dir, ManifestName), Err: err}
	}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, e := range ents {
		g := fragmentPattern.FindStringSubmatch(e.Name())
		if g == nil || e.IsDir() {
			continue
		}
		f, err := read(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // consolidated meanwhile: manifest.json holds it
		}
		i, _ := strconv.Atoi(g[1])
		n, _ := strconv.Atoi(g[2])
		if err != nil {
			de := &DamagedError{Path: filepath.Join(dir, e.Name()), Err: err}
			if n > 1 && n <= MaxShards && i < n {
				de.Shard = &Shard{Index: i, Count: n}
			}
			return nil, de
		}
		if salvage && f.Shard == nil && n > 1 && i < n {
			// The shard field is the last one: a cut-short fragment lost it.
			sh := Shard{Index: i, Count: n}
			f.Shard = &sh
			f.Samples = slices.DeleteFunc(f.Samples, func(s Sample) bool { return !sh.Owns(s.Input) })
		}
		if f.Shard == nil || *f.Shard != (Shard{Index: i, Count: n}) {
			return nil, fmt.Errorf("%s: the fragment's shard field does not match its name", filepath.Join(dir, e.Name()))
		}
		a.fragments = append(a.fragments, e.Name())
		a.shards = append(a.shards, *f.Shard)
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		return a, nil
	}
	m := *parts[0]
	m.Shard = nil
	names := append([]string{ManifestName}, a.fragments...)
	if !a.base {
		names = names[1:]
	}
	byKey := map[[2]int]Sample{}
	for j, p := range parts {
		if j > 0 {
			if d := differences(&m, p); len(d) > 0 {
				return nil, fmt.Errorf("%s: %s describes another run than %s (%s); remove the stale one", dir, names[j], names[0], strings.Join(d, "; "))
			}
			if len(p.Inputs) > len(m.Inputs) {
				m.Inputs = p.Inputs
			}
			m.SamplesPerInput = max(m.SamplesPerInput, p.SamplesPerInput)
			if m.Keep == "" {
				m.Keep = p.Keep // a part that dropped files makes absent files expected
			}
		}
		for _, s := range p.Samples {
			key := [2]int{s.Input, s.K}
			if o, ok := byKey[key]; ok && o.SHA256 != s.SHA256 {
				return nil, fmt.Errorf("%s: %s and another part list sample %d of input %d with different sha256 (%.12s, %.12s)", dir, names[j], s.K, s.Input, s.SHA256, o.SHA256)
			}
			byKey[key] = s
		}
	}
	m.Samples = make([]Sample, 0, len(byKey))
	for _, s := range byKey {
		m.Samples = append(m.Samples, s)
	}
	slices.SortFunc(m.Samples, func(x, y Sample) int {
		if x.Input != y.Input {
			return x.Input - y.Input
		}
		return x.K - y.K
	})
	a.m = &m
	return a, nil
}

// DamagedError is a store's manifest or shard fragment that cannot be
// read (cut short by a full disk or an interrupted copy, say): what to do
// about it depends on the command, so callers can tell it apart.
type DamagedError struct {
	// Path is the file; Shard the fragment's shard (nil: manifest.json).
	Path  string
	Shard *Shard
	// Err says what is wrong, naming Path.
	Err error
}

func (e *DamagedError) Error() string {
	if e.Shard != nil {
		return fmt.Sprintf("%v (the fragment of shard %s)", e.Err, e.Shard)
	}
	return e.Err.Error()
}

func (e *DamagedError) Unwrap() error { return e.Err }

// IsStore reports whether dir is a method folder of a sample store: it
// holds manifest.json or a shard's fragment (a sharded run that has not
// finished has only fragments).
func IsStore(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		return true
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() && fragmentPattern.MatchString(e.Name()) {
			return true
		}
	}
	return false
}

// IncompleteError says precisely what a store lacks: which inputs have
// missing samples and, when shards wrote it, which shards own them.
type IncompleteError struct {
	// Dir is the method folder; Inputs and SamplesPerInput its M and K.
	Dir                     string
	Inputs, SamplesPerInput int
	// Missing are the indices of the inputs with missing samples, and
	// MissingFiles their file names.
	Missing      []int
	MissingFiles []string
	// Samples is the number of samples present.
	Samples int
	// Shards are the shards whose fragments are present (nil: unsharded).
	Shards []Shard
	// OtherRun, when set, says that the method's own folder holds a run of
	// another identity and which fields differ: why this run's samples
	// are looked for in a keyed folder.
	OtherRun string
}

// Error names the missing inputs and, for a sharded store, the shards to
// rerun.
func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "translate: store %s is incomplete: %d of %d samples; %d of %d inputs lack samples (%s)",
		e.Dir, e.Samples, e.Inputs*e.SamplesPerInput, len(e.Missing), e.Inputs, listSome(e.MissingFiles, 5))
	if n := e.shardCount(); n > 1 {
		var rerun []string
		seen := map[int]bool{}
		for _, i := range e.Missing {
			if !seen[i%n] {
				seen[i%n] = true
				rerun = append(rerun, fmt.Sprintf("--shard %d/%d", i%n, n))
			}
		}
		fmt.Fprintf(&b, "; rerun %s (of the munit-eval translate, or run, that wrote the store) to finish it", strings.Join(rerun, ", "))
	} else {
		b.WriteString(" (an interrupted run?); rerun munit-eval translate to finish it")
	}
	if e.OtherRun != "" {
		fmt.Fprintf(&b, "; note: %s", e.OtherRun)
	}
	return b.String()
}

// shardCount is the N of the fragments when they agree on one, else 0.
func (e *IncompleteError) shardCount() int {
	n := 0
	for _, s := range e.Shards {
		if n != 0 && s.Count != n {
			return 0
		}
		n = s.Count
	}
	return n
}

// incomplete returns the IncompleteError of an assembled store, nil when
// it is complete.
func (a *assembly) incomplete(dir string) *IncompleteError {
	m := a.m
	if m.Complete() {
		return nil
	}
	have := make([]int, len(m.Inputs))
	for _, s := range m.Samples {
		have[s.Input]++
	}
	e := &IncompleteError{Dir: dir, Inputs: len(m.Inputs), SamplesPerInput: m.SamplesPerInput, Samples: len(m.Samples), Shards: a.shards}
	for i, n := range have {
		if n < m.SamplesPerInput {
			e.Missing = append(e.Missing, i)
			e.MissingFiles = append(e.MissingFiles, m.Inputs[i].File)
		}
	}
	return e
}
