package translate

// Choosing and locking a run's folder in the store: runs of another seed,
// model or input set live side by side in keyed folders; writers of one
// folder (one process, or one per shard) are kept apart by advisory locks.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// RunKeySep separates a method folder's name from its run key:
// STORE/<method>@<key> holds a run that differs from STORE/<method>'s.
// MethodDir never produces '@', so a keyed folder never names a method.
const RunKeySep = "@"

// lockName is the store lock inside a method folder: an unsharded run holds
// it exclusively, every shard shares it. Shard I/N also holds
// shardLockName(I/N) exclusively.
const lockName = ".lock"

func shardLockName(s Shard) string { return fmt.Sprintf(".lock.shard-%d-of-%d", s.Index, s.Count) }

// consolidating marks the holder text of a shard that folds the fragments
// into manifest.json; starting shards wait for it rather than refuse.
const consolidating = "consolidating the shards"

// runIdentity is what makes two runs' samples different whatever the
// inputs' count or K: the method, the models' bytes, the pre-generated
// folder, the latent source (seed, file), the noise inputs, the resize and
// the input selection and folder. Two manifests of one identity can share a
// folder (the store grows); two of different identities cannot.
type runIdentity struct {
	Method       string            `json:"method"`
	Models       map[string]string `json:"models,omitempty"`
	FromFolder   string            `json:"from_folder,omitempty"`
	LatentSource string            `json:"latent_source"`
	LatentDim    int               `json:"latent_dim"`
	LatentsFile  string            `json:"latents_file,omitempty"`
	// References is ReferenceSet.digest; TargetDomain a multi-domain
	// model's target.
	References   string `json:"references,omitempty"`
	TargetDomain string `json:"target_domain,omitempty"`
	// Seed only where it matters: drawn latents, noise, random selection.
	Seed     *int64 `json:"seed,omitempty"`
	Noise    any    `json:"noise,omitempty"`
	Size     int    `json:"size"`
	Select   string `json:"select"`
	InputDir string `json:"input_dir"`
	Rewrites int    `json:"rewrites,omitempty"`
}

// identityOf is m's identity, with the input and pre-generated folders
// relative to the store root when rel (both manifests compared record
// them), absolute otherwise.
func identityOf(m *Manifest, rel bool) runIdentity {
	id := runIdentity{Method: m.Method, FromFolder: m.FromFolder, LatentSource: m.LatentSource, LatentDim: m.LatentDim,
		Size: m.Size, Select: m.Select, InputDir: m.InputDir, Rewrites: m.Rewrites}
	if rel {
		id.InputDir, id.FromFolder = m.InputDirRel, m.FromFolderRel
	}
	if len(m.Models) > 0 {
		id.Models = map[string]string{}
		for role, f := range m.Models {
			id.Models[role] = f.SHA256
		}
	}
	if m.LatentsFile != nil {
		id.LatentsFile = m.LatentsFile.SHA256
	}
	if m.References != nil {
		id.References = m.References.digest()
	}
	id.TargetDomain = m.TargetDomain
	randomRefs := m.References != nil && m.References.Order == ReferenceRandom
	if m.LatentSource == LatentsSeed || len(m.Noise) > 0 || m.Select == SelectRandom || randomRefs {
		seed := m.Seed
		id.Seed = &seed
	}
	if len(m.Noise) > 0 {
		id.Noise = m.Noise
	}
	return id
}

// RunKey returns the run key of a manifest: the first 12 hex digits of the
// SHA-256 of its identity's canonical JSON (sorted keys). It names the
// folder STORE/<method>@<key> where a run lives whose identity differs from
// the run in STORE/<method>.
func RunKey(m *Manifest) string {
	b, _ := json.Marshal(identityOf(m, hasRel(m))) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// hasRel reports whether m records its folders relative to the store.
func hasRel(m *Manifest) bool {
	return m.InputDirRel != "" && (m.FromFolder == "") == (m.FromFolderRel == "")
}

// relTo is path relative to root ("" when either is empty or there is no
// relative path), with forward slashes so a manifest reads the same
// everywhere.
func relTo(root, path string) string {
	if root == "" || path == "" {
		return ""
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return ""
	}
	r, err := filepath.Rel(absRoot, path)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(r)
}

func sameIdentity(a, b *Manifest) bool { return len(identityDiff(a, b)) == 0 }

// identityDiff names every field of the run identity in which the stored
// run a and the new run b differ, "field: store X, now Y" each (the input
// and pre-generated folders relative to the store when both record that,
// so a moved evaluation keeps its identity).
func identityDiff(a, b *Manifest) []string {
	rel := hasRel(a) && hasRel(b)
	x, y := identityOf(a, rel), identityOf(b, rel)
	var d []string
	add := func(name string, u, v any) {
		ju, _ := json.Marshal(u)
		jv, _ := json.Marshal(v)
		if string(ju) != string(jv) {
			d = append(d, fmt.Sprintf("%s: store %s, now %s", name, ju, jv))
		}
	}
	add("method", x.Method, y.Method)
	add("models (sha256)", x.Models, y.Models)
	add("pre-generated folder", x.FromFolder, y.FromFolder)
	add("latent source", x.LatentSource, y.LatentSource)
	add("latent size", x.LatentDim, y.LatentDim)
	add("latents file (sha256)", x.LatentsFile, y.LatentsFile)
	add("references (order, names and sha256)", x.References, y.References)
	add("target domain", x.TargetDomain, y.TargetDomain)
	add("seed", x.Seed, y.Seed)
	add("noise inputs", x.Noise, y.Noise)
	add("--size", x.Size, y.Size)
	add("--select", x.Select, y.Select)
	add("input folder", x.InputDir, y.InputDir)
	add("graph rewrites", x.Rewrites, y.Rewrites)
	return d
}

// chooseStore picks the run's folder and locks it: STORE/<method> when it
// is empty or holds a run of the same identity (or cannot be read),
// otherwise STORE/<method>@<RunKey>, so runs of another seed, model,
// latents, noise, resize or input folder live side by side instead of
// being refused. Force then applies to the folder chosen. It leaves the
// folder's assembled manifest in r.prev (or the error reading it in
// r.prevErr).
func (r *runner) chooseStore(dirName string) error {
	siblings := r.keyedSiblings(dirName)
	candidates := append([]string{dirName}, siblings...)
	if key := dirName + RunKeySep + RunKey(r.man); !slices.Contains(candidates, key) {
		candidates = append(candidates, key)
	}
	for j, c := range candidates {
		dir := filepath.Join(r.cfg.Out, c)
		last := j == len(candidates)-1
		if err := r.lock(dir); err != nil {
			// Another process writing a run of another identity there does
			// not concern this run: look at the next folder.
			if a, rerr := readStore(dir, false); !last && rerr == nil && a.m != nil && !sameIdentity(a.m, r.man) {
				continue
			}
			return err
		}
		a, err := readStore(dir, r.cfg.Repair)
		join := err == nil && j == 0 && len(siblings) == 0 && a.m != nil && r.rewritesOnly(a.m)
		if join {
			r.joining, r.man.Rewrites = a.m, a.m.Rewrites
		}
		if err != nil || last || a.m == nil || join || sameIdentity(a.m, r.man) {
			r.dir, r.prev, r.prevErr = dir, a, err
			if r.prev == nil {
				r.prev = &assembly{}
			}
			return nil
		}
		if j == 0 {
			r.otherRun = fmt.Sprintf("%s holds a run of another identity (%s)", dir, strings.Join(identityDiff(a.m, r.man), "; "))
		}
		r.unlock()
	}
	return nil // not reached: the last candidate is always taken
}

// keyedSiblings lists the keyed folders STORE/<dirName>@* that hold a run
// of this run's identity, whatever their key: a key computed by another
// version of munit-eval, or before the store moved, still finds its run.
func (r *runner) keyedSiblings(dirName string) []string {
	ents, _ := os.ReadDir(r.cfg.Out)
	var out []string
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirName+RunKeySep) {
			continue
		}
		if a, err := readStore(filepath.Join(r.cfg.Out, e.Name()), false); err == nil && a.m != nil && sameIdentity(a.m, r.man) {
			out = append(out, e.Name())
		}
	}
	return out
}

// lock takes the folder's locks: an unsharded run the store lock
// exclusively; shard I/N its shard lock exclusively and the store lock
// shared, waiting while a finishing shard consolidates. A refusal names the
// holder (host, pid, since when, what it does).
func (r *runner) lock(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the store: %w", err)
	}
	if !r.shard.Sharded() {
		l, err := lockPath(filepath.Join(dir, lockName), true, holderInfo("munit-eval translate, all inputs"))
		if err != nil {
			return lockedError(dir, err)
		}
		r.locks = []*fileLock{l}
		return nil
	}
	sl, err := lockPath(filepath.Join(dir, shardLockName(r.shard)), true, holderInfo("munit-eval translate --shard "+r.shard.String()))
	if err != nil {
		var le *errLocked
		if errors.As(err, &le) {
			return fmt.Errorf("shard %s of %s is already being written by %s; two processes must not run the same shard", r.shard, dir, orUnknown(le.holder))
		}
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		gl, err := lockPath(filepath.Join(dir, lockName), false, "")
		if err == nil {
			r.locks = []*fileLock{sl, gl}
			return nil
		}
		var le *errLocked
		if errors.As(err, &le) && strings.Contains(le.holder, consolidating) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		sl.release()
		return lockedError(dir, err)
	}
}

// lockedError turns a refused store lock into a message naming who holds
// it: the exclusive holder, or every shard holding it shared.
func lockedError(dir string, err error) error {
	var le *errLocked
	if !errors.As(err, &le) {
		return err
	}
	holder := le.holder
	if holder == "" {
		var shards []string
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), lockName+".shard-") {
				if h := readHolder(filepath.Join(dir, e.Name())); h != "" {
					shards = append(shards, h)
				}
			}
		}
		slices.Sort(shards)
		holder = "sharded writers: " + orUnknown(strings.Join(shards, "; "))
	}
	return fmt.Errorf("%s is being written by another munit-eval translate (%s); wait for it to finish, or use another store folder", dir, holder)
}

func orUnknown(s string) string {
	if s == "" {
		return "a process that did not say who it is"
	}
	return s
}

// unlock releases the locks in reverse order.
func (r *runner) unlock() {
	for j := len(r.locks) - 1; j >= 0; j-- {
		r.locks[j].release()
	}
	r.locks = nil
}

// consolidate runs when a shard has finished its inputs: it gives up its
// shard lock and tries to take the store lock exclusively, which succeeds
// only when no other writer is left. The one that gets it assembles
// manifest.json and every fragment and, when the store is complete, writes
// manifest.json (the bytes one unsharded run writes) and removes the
// fragments. It reports whether the store is now complete.
func (r *runner) consolidate() (bool, error) {
	if len(r.locks) != 2 {
		return false, nil
	}
	r.locks[0].release()
	gl := r.locks[1]
	r.locks = []*fileLock{gl}
	if !gl.upgrade(holderInfo("munit-eval translate --shard " + r.shard.String() + ", " + consolidating)) {
		r.locks = nil
		return false, nil
	}
	a, err := readStore(r.dir, false)
	if err != nil {
		return false, err
	}
	if a.m == nil || a.incomplete(r.dir) != nil {
		return false, nil
	}
	if err := syncSamples(r.dir, nil); err != nil {
		return false, fmt.Errorf("flushing samples to disk: %w", err)
	}
	if err := a.m.write(r.dir); err != nil {
		return false, fmt.Errorf("writing the manifest: %w", err)
	}
	for _, f := range a.fragments {
		if err := os.Remove(filepath.Join(r.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return true, fmt.Errorf("removing the folded fragment: %w", err)
		}
	}
	return true, nil
}
