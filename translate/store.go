package translate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/munit-eval/munit-eval/images"
)

// CacheDirName is the folder, beside the method folders of a store, that
// holds derived caches: CacheDirName/<kind>/<model-sha256>/<image-sha256>.npy.
const CacheDirName = ".cache"

// MethodDir returns the folder name of a method inside a store: the name
// with '*' spelled "_star", '+' spelled "_plus", and every other character
// outside [A-Za-z0-9._-] (spaces, slashes, non-ASCII) replaced by '_'; a
// leading '.' becomes '_' so the folder is never hidden. "CycleGAN*" gives
// "CycleGAN_star". Two names may share a folder ("A B" and "A_B"); the
// manifest keeps the real name and a run refuses to mix them.
func MethodDir(method string) (string, error) {
	if strings.TrimSpace(method) == "" {
		return "", errors.New("empty method name")
	}
	// A method's name is printed in one-line messages, tables and job
	// logs: a newline or escape sequence would forge lines of them.
	if strings.ContainsFunc(method, unicode.IsControl) {
		return "", fmt.Errorf("method name %q contains a control character", method)
	}
	var b strings.Builder
	for _, r := range method {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		case r == '*':
			b.WriteString("_star")
		case r == '+':
			b.WriteString("_plus")
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if strings.HasPrefix(s, ".") {
		s = "_" + s[1:]
	}
	return s, nil
}

// Store is a finished method folder of the sample store, as the metric
// commands read it.
type Store struct {
	dir string
	m   *Manifest
}

// OpenStore opens the method folder methodDir (STORE/<method>): it reads and
// validates manifest.json, assembling the fragments that sharded runs write
// beside it (manifest.shard-I-of-N.json), checks that every sample of every
// input is listed (an incomplete store is an *IncompleteError naming the
// inputs, and the shards, that lack samples) and that every sample file
// exists. It does not hash the files; Verify does.
func OpenStore(methodDir string) (*Store, error) {
	a, err := readStore(methodDir, false)
	if err != nil {
		var de *DamagedError
		if errors.As(err, &de) {
			how := "munit-eval translate --repair"
			if de.Shard != nil {
				how = fmt.Sprintf("munit-eval translate --shard %s --repair; under munit-eval run, delete it and rerun --shard %s", de.Shard, de.Shard)
			}
			return nil, fmt.Errorf("translate: %w; the command that wrote the store repairs it (%s)", err, how)
		}
		return nil, fmt.Errorf("translate: %w", err)
	}
	if a.m == nil {
		return nil, fmt.Errorf("translate: %s is not a sample store: no %s (create it with munit-eval translate)", methodDir, ManifestName)
	}
	m := a.m
	if e := a.incomplete(methodDir); e != nil {
		return nil, e
	}
	// validate guarantees sorted, unique samples; complete means that
	// Samples[i*K+k] is sample k of input i.
	s := &Store{dir: methodDir, m: m}
	for i := range m.Inputs {
		for k := 0; k < m.SamplesPerInput; k++ {
			p := s.SamplePath(i, k)
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("translate: store %s: sample %d of input %s is missing (%s); rerun munit-eval translate to restore it", methodDir, k, m.Inputs[i].File, p)
			}
		}
	}
	return s, nil
}

// Dir returns the method folder.
func (s *Store) Dir() string { return s.dir }

// Manifest returns the store's manifest. Callers must not modify it.
func (s *Store) Manifest() *Manifest { return s.m }

// Method returns the method's real name.
func (s *Store) Method() string { return s.m.Method }

// Randomness returns where the samples' variation comes from (Manifest.
// Randomness): RandomnessStyle, RandomnessNoise, RandomnessStyleNoise,
// RandomnessNone or RandomnessUnknown.
func (s *Store) Randomness() string { return s.m.Randomness }

// NumInputs returns M, the number of inputs.
func (s *Store) NumInputs() int { return len(s.m.Inputs) }

// SamplesPerInput returns K, the number of samples of every input.
func (s *Store) SamplesPerInput() int { return s.m.SamplesPerInput }

// SamplePath returns the PNG file of sample k of input i:
// <method dir>/<stem>/<k>.png.
func (s *Store) SamplePath(input, k int) string {
	return samplePath(s.dir, s.m.Inputs[input].Stem, k)
}

// SampleSHA256 returns the SHA-256 of sample k of input i, as recorded in the
// manifest; downstream caches key on it.
func (s *Store) SampleSHA256(input, k int) string {
	return s.m.Samples[input*s.m.SamplesPerInput+k].SHA256
}

// InputDir returns the input folder the store was made from: the one
// recorded relative to the store when it exists (it moves with a copied
// evaluation folder), else the absolute one recorded.
func (s *Store) InputDir() string {
	if s.m.InputDirRel != "" {
		d := filepath.Join(filepath.Dir(s.dir), filepath.FromSlash(s.m.InputDirRel))
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return s.m.InputDir
}

// InputPath returns the file of input i in the input folder it was read from.
func (s *Store) InputPath(input int) string {
	return filepath.Join(s.InputDir(), s.m.Inputs[input].File)
}

// CachePath returns where a derived cache of kind (e.g. "lpips",
// "classifier") computed by the model with SHA-256 modelSHA256 keeps its
// result for the image with SHA-256 imageSHA256:
// STORE/.cache/<kind>/<model-sha256>/<image-sha256>.npy, beside the method
// folders, so every method of a store shares it.
func (s *Store) CachePath(kind, modelSHA256, imageSHA256 string) string {
	return filepath.Join(filepath.Dir(s.dir), CacheDirName, kind, modelSHA256, imageSHA256+".npy")
}

// Verify hashes every sample file and reports the first whose SHA-256 does
// not match the manifest.
func (s *Store) Verify() error {
	for _, smp := range s.m.Samples {
		p := s.SamplePath(smp.Input, smp.K)
		h, err := images.HashFile(p)
		if err != nil {
			return fmt.Errorf("translate: verifying %s: %w", p, err)
		}
		if h != smp.SHA256 {
			return fmt.Errorf("translate: %s has sha256 %s, the manifest says %s (modified after translate?); rerun munit-eval translate", p, h, smp.SHA256)
		}
	}
	return nil
}

func samplePath(dir, stem string, k int) string {
	return filepath.Join(dir, stem, strconv.Itoa(k)+".png")
}

// OpenShard opens the part of the method folder methodDir that shard s
// owns, while other shards may still be writing theirs: the store of the
// assembled manifest (manifest.json and the fragments) in which every input
// s owns has all its samples, each file present. Only those inputs'
// SamplePath and SampleSHA256 may be asked for; the others' are empty.
// It is what a shard task reads back to compute its inputs' per-sample
// partials.
func OpenShard(methodDir string, s Shard) (*Store, error) {
	a, err := readStore(methodDir, false)
	if err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	if a.m == nil {
		return nil, fmt.Errorf("translate: %s is not a sample store: no %s or shard fragment", methodDir, ManifestName)
	}
	m := *a.m
	k := m.SamplesPerInput
	if k <= 0 || len(m.Inputs)*k > MaxSamples {
		return nil, fmt.Errorf("translate: store %s: %d inputs x %d samples per input", methodDir, len(m.Inputs), k)
	}
	// Samples[i*K+k] is sample k of input i, as in a complete store.
	full := make([]Sample, len(m.Inputs)*k)
	for _, x := range m.Samples {
		if x.Input >= 0 && x.Input < len(m.Inputs) && x.K >= 0 && x.K < k {
			full[x.Input*k+x.K] = x
		}
	}
	m.Samples = full
	st := &Store{dir: methodDir, m: &m}
	for i := range m.Inputs {
		if !s.Owns(i) {
			continue
		}
		for j := range k {
			if full[i*k+j].SHA256 == "" {
				return nil, fmt.Errorf("translate: store %s: shard %s lacks sample %d of input %s; rerun the shard", methodDir, s, j, m.Inputs[i].File)
			}
			if _, err := os.Stat(st.SamplePath(i, j)); err != nil {
				return nil, fmt.Errorf("translate: store %s: sample %d of input %s is missing (%s); rerun the shard", methodDir, j, m.Inputs[i].File, st.SamplePath(i, j))
			}
		}
	}
	return st, nil
}
