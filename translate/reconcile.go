package translate

// Reconciling a run with what its store already holds: comparing manifests,
// discarding, reusing checked samples, writing the manifest.

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/munit-eval/munit-eval/images"
)

// openStore compares what the run folder holds (r.prev, read under the
// lock by chooseStore) with the new run, discards (Force) or reuses what is
// there, removes stale temporary files, and writes the manifest of the
// reused samples (a shard: its fragment) before any work starts. An
// unsharded run then folds the fragments of earlier sharded runs into
// manifest.json and removes them: it holds the store's lock exclusively,
// so no shard is writing.
func (r *runner) openStore() error {
	if err := r.checkNoLinks(); err != nil {
		return err
	}
	var old *Manifest
	switch {
	case r.prevErr != nil:
		if !r.cfg.Force {
			return fmt.Errorf("%w; %s", r.prevErr, repairHint)
		}
	case r.prev.m == nil:
		if !r.cfg.Force {
			if names := r.foreignEntries(); len(names) > 0 {
				return fmt.Errorf("%s is not empty and holds no %s, so it is not a sample store (it has %s); use another store folder, or --force to write into it",
					r.dir, ManifestName, listSome(names, 5))
			}
		}
	default:
		old = r.prev.m
	}
	if old != nil {
		if diff := differences(old, r.man); len(diff) > 0 {
			if !r.cfg.Force {
				return fmt.Errorf("%s holds samples of a different run (%s); refusing to mix them: use another store folder, or --force to discard the old samples",
					r.dir, strings.Join(diff, "; "))
			}
			if err := r.discard(old); err != nil {
				return err
			}
			old = nil
		}
	}
	r.removeTemps()
	if old != nil {
		if err := r.reuse(old); err != nil {
			return err
		}
	}
	if err := r.writeManifest(); err != nil {
		return err
	}
	if !r.shard.Sharded() && r.prev != nil {
		for _, f := range r.prev.fragments {
			if err := os.Remove(filepath.Join(r.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("folding the shard fragments into %s: %w", ManifestName, err)
			}
		}
	}
	return nil
}

// checkNoLinks refuses a run folder whose sample folders (of this run's
// inputs, or of the stored run's) are symbolic links: the run writes,
// replaces and removes files inside them, which would then happen outside
// the store.
func (r *runner) checkNoLinks() error {
	stems := map[string]bool{}
	for i, in := range r.inputs {
		if r.shard.Owns(i) {
			stems[in.rec.Stem] = true
		}
	}
	if r.prev != nil && r.prev.m != nil {
		for _, in := range r.prev.m.Inputs {
			stems[in.Stem] = true
		}
	}
	for _, stem := range slices.Sorted(maps.Keys(stems)) {
		p := filepath.Join(r.dir, stem)
		if st, err := os.Lstat(p); err == nil && st.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; munit-eval does not write through links in a store: remove it (or use another store folder)", p)
		}
	}
	return nil
}

// repairHint says how to get past a store whose manifest cannot be read.
const repairHint = "rerun with --repair to keep every intact sample (each is checked by its SHA-256 before reuse), or with --force to discard the old store"

// foreignEntries lists the visible entries of the run folder that no writer
// of this run could have made. Other shards of the run may have written
// their fragments and stem folders since chooseStore read the folder.
func (r *runner) foreignEntries() []string {
	names := visibleEntries(r.dir)
	if !r.shard.Sharded() {
		return names
	}
	return slices.DeleteFunc(names, func(n string) bool {
		if fragmentPattern.MatchString(n) {
			return true
		}
		st, err := os.Stat(filepath.Join(r.dir, n))
		return err == nil && st.IsDir() && r.allStems[n]
	})
}

// visibleEntries lists the non-hidden entries of dir.
func visibleEntries(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// differences lists what makes old and new samples incomparable: the
// method, the models, the pre-generated folder, the latent source (and its
// seed or file), the noise inputs, the resize, any input at the same index
// with another stem or content, and a random input subset of another size.
// More inputs
// (first-M selection) or samples per input are not differences: the common
// ones are reused.
func differences(old, cur *Manifest) []string {
	var d []string
	if old.Method != cur.Method {
		d = append(d, fmt.Sprintf("method: store %q, now %q", old.Method, cur.Method))
	}
	roles := map[string]bool{}
	for k := range old.Models {
		roles[k] = true
	}
	for k := range cur.Models {
		roles[k] = true
	}
	for _, role := range slices.Sorted(maps.Keys(roles)) {
		o, ok1 := old.Models[role]
		c, ok2 := cur.Models[role]
		switch {
		case !ok1:
			d = append(d, fmt.Sprintf("%s: store has none, now %s", role, c.File))
		case !ok2:
			d = append(d, fmt.Sprintf("%s: store has %s, now none", role, o.File))
		case o.SHA256 != c.SHA256:
			d = append(d, fmt.Sprintf("%s: store has %s (sha256 %.12s), now %s (sha256 %.12s)", role, o.File, o.SHA256, c.File, c.SHA256))
		}
	}
	oldFrom, curFrom := old.FromFolder, cur.FromFolder
	if hasRel(old) && hasRel(cur) {
		oldFrom, curFrom = old.FromFolderRel, cur.FromFolderRel
	}
	if oldFrom != curFrom {
		d = append(d, fmt.Sprintf("pre-generated folder: store %q, now %q", oldFrom, curFrom))
	}
	if old.LatentSource != cur.LatentSource {
		d = append(d, fmt.Sprintf("latents: store %s, now %s", old.LatentSource, cur.LatentSource))
	} else {
		if old.LatentDim != cur.LatentDim {
			d = append(d, fmt.Sprintf("latent size: store %d, now %d", old.LatentDim, cur.LatentDim))
		}
		if (old.LatentSource == LatentsSeed || len(old.Noise) > 0 || (old.References != nil && old.References.Order == ReferenceRandom)) && old.Seed != cur.Seed {
			d = append(d, fmt.Sprintf("seed: store %d, now %d", old.Seed, cur.Seed))
		}
		if old.References != nil && cur.References != nil && old.References.digest() != cur.References.digest() {
			d = append(d, fmt.Sprintf("references: store %s (%s order), now %s (%s order), or their files differ", old.References.Dir, old.References.Order, cur.References.Dir, cur.References.Order))
		}
		if old.LatentSource == LatentsFile && old.LatentsFile != nil && cur.LatentsFile != nil && old.LatentsFile.SHA256 != cur.LatentsFile.SHA256 {
			d = append(d, fmt.Sprintf("latents file: store %s (sha256 %.12s), now %s (sha256 %.12s)", old.LatentsFile.File, old.LatentsFile.SHA256, cur.LatentsFile.File, cur.LatentsFile.SHA256))
		}
	}
	if !slices.Equal(old.Noise, cur.Noise) {
		d = append(d, fmt.Sprintf("noise inputs: store %v, now %v", old.Noise, cur.Noise))
	}
	if old.Size != cur.Size {
		d = append(d, fmt.Sprintf("--size: store %d, now %d", old.Size, cur.Size))
	}
	var in []string
	for i := 0; i < min(len(old.Inputs), len(cur.Inputs)); i++ {
		o, c := old.Inputs[i], cur.Inputs[i]
		if o.Stem != c.Stem || o.SHA256 != c.SHA256 {
			in = append(in, fmt.Sprintf("input %d: store %s (sha256 %.12s), now %s (sha256 %.12s)", i, o.File, o.SHA256, c.File, c.SHA256))
		}
	}
	random := old.Select == SelectRandom || cur.Select == SelectRandom
	if random && (len(in) > 0 || len(old.Inputs) != len(cur.Inputs)) {
		// A random subset of another size is another subset: the indices,
		// and with them the latent codes, move.
		d = append(d, fmt.Sprintf("inputs: store has %d chosen by --select %s, now %d by --select %s", len(old.Inputs), old.Select, len(cur.Inputs), cur.Select))
	}
	if len(in) > 0 {
		d = append(d, listSome(in, 3))
	}
	return d
}

// discard removes the samples of an old store: every <stem>/<k>.png within
// its inputs and samples per input (listed or not), emptied stem folders and
// the manifest.
func (r *runner) discard(old *Manifest) error {
	for _, in := range old.Inputs {
		for k := 0; k < old.SamplesPerInput; k++ {
			p := samplePath(r.dir, in.Stem, k)
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("discarding the old store: %w", err)
			}
		}
		removeTempsIn(filepath.Join(r.dir, in.Stem))
		os.Remove(filepath.Join(r.dir, in.Stem)) // only when empty
	}
	if err := os.Remove(filepath.Join(r.dir, ManifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("discarding the old store: %w", err)
	}
	return nil
}

// removeTemps deletes temporary files left by writes that a killed run
// never finished (atomicfile's ".<name>.tmp-*").
// A shard removes only its own: other shards may be writing theirs.
func (r *runner) removeTemps() {
	if r.shard.Sharded() {
		prefix := "." + fragmentName(r.shard) + ".tmp-"
		ents, _ := os.ReadDir(r.dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) && !e.IsDir() {
				os.Remove(filepath.Join(r.dir, e.Name()))
			}
		}
	} else {
		removeTempsIn(r.dir)
	}
	for i, in := range r.inputs {
		if r.shard.Owns(i) {
			removeTempsIn(filepath.Join(r.dir, in.rec.Stem))
		}
	}
}

func removeTempsIn(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") && !e.IsDir() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// reuse marks as done every sample of the old manifest (of a comparable run)
// that is still wanted, has the same latent code (or source file), and
// whose file is there with the recorded SHA-256; it removes the files of
// samples no longer wanted (fewer inputs or samples per input).
func (r *runner) reuse(old *Manifest) error {
	m := len(r.inputs)
	var cand []Sample
	for _, s := range old.Samples {
		if s.Input < m && s.K < r.k && r.shard.Owns(s.Input) {
			cand = append(cand, s)
		}
	}
	for i, in := range old.Inputs {
		if !r.shard.Owns(i) {
			continue
		}
		for k := 0; k < old.SamplesPerInput; k++ {
			if i >= m || k >= r.k {
				os.Remove(samplePath(r.dir, in.Stem, k))
			}
		}
		if i >= m {
			removeTempsIn(filepath.Join(r.dir, in.Stem))
			os.Remove(filepath.Join(r.dir, in.Stem))
		}
	}
	ok := make([]bool, len(cand))
	err := parallel(len(cand), func(j int) error {
		s := cand[j]
		if !slices.Equal(floatBits(s.Latent), floatBits(r.latentOf(s.Input, s.K))) || s.Reference != r.referenceOf(s.Input, s.K) {
			return nil
		}
		if r.scan != nil {
			if s.Source != r.scan.sources[s.Input][s.K] {
				return nil
			}
			h, err := images.HashFile(filepath.Join(r.cfg.FromFolder, filepath.FromSlash(s.Source)))
			if err != nil {
				return fmt.Errorf("pre-generated sample: %w", err)
			}
			if h != s.SourceSHA256 {
				return nil
			}
		}
		h, err := images.HashFile(samplePath(r.dir, r.inputs[s.Input].rec.Stem, s.K))
		ok[j] = err == nil && h == s.SHA256
		return nil
	})
	if err != nil {
		return err
	}
	for j, s := range cand {
		if ok[j] {
			r.done[s.Input*r.k+s.K] = &s
			r.reused++
		}
	}
	return nil
}

// floatBits returns the bit patterns of v, so latent codes compare exactly
// (NaN-safe, -0 distinct from 0).
func floatBits(v []float32) []uint32 {
	b := make([]uint32, len(v))
	for i, x := range v {
		b[i] = math.Float32bits(x)
	}
	return b
}

// writeManifest writes the manifest (a shard: its fragment, with the
// samples of its inputs) with every finished sample, after
// flushing the sample files written since the last one (syncSamples), so
// that even after a power cut the manifest lists only samples whose bytes
// reached the disk. Sample files themselves are written atomically
// (temporary file + rename) without an fsync each: one flush per manifest
// instead of one per sample keeps the store's cost at 64x64 low, and a
// sample is only ever reused after its SHA-256 is checked.
func (r *runner) writeManifest() error {
	if len(r.unsynced) > 0 {
		if err := syncSamples(r.dir, r.unsynced); err != nil {
			return fmt.Errorf("flushing samples to disk: %w", err)
		}
		r.unsynced = r.unsynced[:0]
	}
	r.man.Samples = r.man.Samples[:0]
	for _, s := range r.done {
		if s != nil {
			r.man.Samples = append(r.man.Samples, *s)
		}
	}
	if err := r.man.write(r.dir); err != nil {
		return fmt.Errorf("writing the manifest: %w", err)
	}
	return nil
}

// countDone returns the finished samples of the run's own inputs and how
// many it has in all.
func (r *runner) countDone() (done, total int) {
	for j, s := range r.done {
		if r.shard.Owns(j / r.k) {
			total++
			if s != nil {
				done++
			}
		}
	}
	return done, total
}
