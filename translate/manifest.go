package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
	"github.com/munit-eval/munit-eval/model"
)

// ManifestSchema is the value of Manifest.Schema for this version of the
// format.
const ManifestSchema = "munit-eval/samples/v1"

// MaxSamples bounds a store's inputs x samples per input (the bound of one
// evaluation's samples), so that no number read from a manifest or a flag
// makes a run loop or allocate beyond it.
const MaxSamples = 10_000_000

// ManifestName is the manifest's file name inside a method folder.
const ManifestName = "manifest.json"

// Model roles used as keys of Manifest.Models (the same spelling as the
// results document's models).
const (
	ModelGenerator      = "generator"
	ModelContentEncoder = "content_encoder"
	ModelDecoder        = "decoder"
	ModelStyleEncoder   = "style_encoder"
	ModelMapping        = "mapping"
)

// Latent sources (Manifest.LatentSource).
const (
	LatentsSeed = "seed" // drawn by Latent from the seed
	LatentsFile = "file" // read from a .npy file (Manifest.LatentsFile)
	LatentsNone = "none" // deterministic generator or pre-generated folder
	// LatentsReference: the style encoder's codes of reference images
	// (Manifest.References, Sample.Reference).
	LatentsReference = "reference"
)

// Input selections (Config.Select, Manifest.Select).
const (
	SelectFirst  = "first"  // the first M images of the folder in sorted order
	SelectRandom = "random" // a seeded random subset of M, kept in sorted order
)

// Randomness sources (Manifest.Randomness): where a method's sample-to-
// sample variation comes from.
const (
	RandomnessStyle      = "style"       // a style (latent) code per sample
	RandomnessNoise      = "noise"       // noise inputs (munit_eval.noise) per sample
	RandomnessStyleNoise = "style+noise" // both
	RandomnessNone       = "none"        // a deterministic generator
	RandomnessUnknown    = "unknown"     // pre-generated samples: not known to munit-eval
)

// FileRef names a file and the SHA-256 of its bytes.
type FileRef struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Versions are the versions of the software that wrote the store.
type Versions struct {
	MunitEval   string `json:"munit_eval"`
	ONNXRuntime string `json:"onnxruntime,omitempty"`
}

// Input is one input image of the store.
type Input struct {
	// Index is the input's position (0-based) in the store; it is the i of
	// the latent code's (seed, i, k).
	Index int `json:"index"`
	// Stem is the file name without extension: the samples live in
	// <method>/<stem>/.
	Stem string `json:"stem"`
	// File is the file name inside Manifest.InputDir.
	File string `json:"file"`
	// SHA256 is the hash of the file's bytes; Width and Height its size
	// before any resize.
	SHA256 string `json:"sha256"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Sample is one finished sample.
type Sample struct {
	Input int `json:"input"`
	K     int `json:"k"`
	// Latent is the code the generator was given (absent for deterministic
	// generators and pre-generated folders). float32 values round-trip
	// exactly through JSON.
	Latent []float32 `json:"latent,omitempty"`
	// SHA256 is the hash of the sample's PNG file.
	SHA256 string `json:"sha256"`
	// Source and SourceSHA256 name the file a pre-generated sample was
	// copied from (relative to Manifest.FromFolder) and its hash.
	Source       string `json:"source,omitempty"`
	SourceSHA256 string `json:"source_sha256,omitempty"`
	// Reference is the reference image (a file of Manifest.References)
	// whose style code Latent is, in a reference-guided run.
	Reference string `json:"reference,omitempty"`
}

// Manifest describes a method folder of the store: what produced the
// samples and the hash of every sample. It is written as manifest.json.
type Manifest struct {
	Schema string `json:"schema"`
	// Method is the method's real name (the folder name is MethodDir(Method)).
	Method string `json:"method"`
	// Models holds the generator (key "generator"), or the content encoder
	// and decoder of the two-stage form ("content_encoder", "decoder"); it is
	// empty for a pre-generated folder.
	Models map[string]FileRef `json:"models,omitempty"`
	// FromFolder is the pre-generated folder (absolute path) the samples
	// were copied from, and FolderLayout its layout ("<stem>/<k>.png",
	// "<stem>_<k>.png" or "<stem>.png").
	FromFolder   string `json:"from_folder,omitempty"`
	FolderLayout string `json:"folder_layout,omitempty"`
	// LatentDim is the size S of a latent code (0 when there is none).
	LatentDim int `json:"latent_dim"`
	// LatentSource is LatentsSeed, LatentsFile or LatentsNone.
	LatentSource string   `json:"latent_source"`
	LatentsFile  *FileRef `json:"latents_file,omitempty"`
	// References is the reference folder of a reference-guided run
	// (LatentsReference).
	References *ReferenceSet `json:"references,omitempty"`
	// TargetDomain is the target domain of a multi-domain model.
	TargetDomain string `json:"target_domain,omitempty"`
	// Noise lists the generator's noise inputs (its munit_eval.noise
	// metadata), filled per sample from the seed (see Noise).
	Noise []model.NoiseInput `json:"noise,omitempty"`
	// Randomness says where the samples' variation comes from: one of
	// RandomnessStyle, RandomnessNoise, RandomnessStyleNoise, RandomnessNone
	// or RandomnessUnknown. Manifests written before the field existed get
	// it derived on read (randomnessOf).
	Randomness string `json:"randomness"`
	// Repeat is true when a deterministic generator's single output was
	// copied to every sample of its input.
	Repeat bool `json:"repeat,omitempty"`
	// Rewrites is the number of exact graph rewrites applied to the
	// generator's sessions (0 with --no-rewrite or nothing to rewrite): the
	// rewritten graph sums in another order and may round a pixel one grey
	// level differently, so a run with another count shares a folder only
	// after regenerating stored samples byte for byte (verifyRewrites); the
	// count is then the founding run's.
	Rewrites int `json:"rewrites,omitempty"`
	// Seed drew the latent codes (LatentsSeed) and the random input subset
	// (Select random). Always written: 0 is a valid seed.
	Seed int64 `json:"seed"`
	// Select is SelectFirst or SelectRandom; InputDir the input folder
	// (absolute path).
	Select   string `json:"select"`
	InputDir string `json:"input_dir"`
	// InputDirRel and FromFolderRel are InputDir and FromFolder relative
	// to the store root (the method folder's parent) as written: a store
	// copied or moved together with its inputs (a whole evaluation folder)
	// keeps its run identity through them. Empty in manifests written
	// before them, or where no relative path exists.
	InputDirRel   string `json:"input_dir_rel,omitempty"`
	FromFolderRel string `json:"from_folder_rel,omitempty"`
	// Size is the --size resize (shorter side to Size, centre crop Size x
	// Size) applied to every input before the generator; 0 for none.
	Size            int      `json:"size,omitempty"`
	SamplesPerInput int      `json:"samples_per_input"`
	Inputs          []Input  `json:"inputs"`
	Samples         []Sample `json:"samples"`
	Versions        Versions `json:"versions"`
	// Shard is set in a shard's manifest fragment only
	// (manifest.shard-I-of-N.json): its samples are those of the inputs the
	// shard owns. OpenStore assembles the fragments; a complete store has
	// one manifest.json without it.
	Shard *Shard `json:"shard,omitempty"`
	// Keep is the run's --keep-samples mode when it keeps only some sample
	// files (KeepGrid, KeepNone; empty: all). In such a store a listed
	// sample whose file is absent was dropped on purpose after its values
	// were computed: it is not missing, and a rerun with the same mode
	// does not regenerate it (its values are looked up by SHA256).
	Keep string `json:"keep,omitempty"`
}

// Keep modes (Config.Keep, Manifest.Keep).
const (
	KeepAll  = "all"  // every sample file stays
	KeepGrid = "grid" // only those the report's grids and amt make's defaults show
	KeepNone = "none" // no sample file stays: manifest and values only
)

// ParseKeep checks a --keep-samples mode; "" is KeepAll.
func ParseKeep(mode string) (string, error) {
	switch mode {
	case "", KeepAll:
		return KeepAll, nil
	case KeepGrid, KeepNone:
		return mode, nil
	}
	return "", fmt.Errorf("keep_samples (--keep-samples) %q: want all, grid or none", mode)
}

// fragmentName is the file name of shard s's manifest fragment.
func fragmentName(s Shard) string {
	return fmt.Sprintf("manifest.shard-%d-of-%d.json", s.Index, s.Count)
}

// fragmentPattern matches fragment names; its groups are I and N.
var fragmentPattern = regexp.MustCompile(`^manifest\.shard-([0-9]+)-of-([0-9]+)\.json$`)

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ReadManifest reads the manifest of method folder methodDir (its
// manifest.json), parsed and validated but not checked for completeness
// (OpenStore does that): for reading a store's settings.
func ReadManifest(methodDir string) (*Manifest, error) {
	return readManifest(filepath.Join(methodDir, ManifestName))
}

// readManifest reads and parses path without checking completeness.
func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseManifest(b, path)
}

// parseManifest parses and validates a manifest's bytes; path names it in
// errors.
func parseManifest(b []byte, path string) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: not a sample manifest: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: not a sample manifest: data after the JSON object", path)
	}
	if m.Randomness == "" {
		m.Randomness = randomnessOf(&m)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// randomnessOf derives Manifest.Randomness from the latent source, the noise
// inputs and the pre-generated folder.
func randomnessOf(m *Manifest) string {
	style := m.LatentSource == LatentsSeed || m.LatentSource == LatentsFile || m.LatentSource == LatentsReference
	switch {
	case m.FromFolder != "":
		return RandomnessUnknown
	case style && len(m.Noise) > 0:
		return RandomnessStyleNoise
	case style:
		return RandomnessStyle
	case len(m.Noise) > 0:
		return RandomnessNoise
	}
	return RandomnessNone
}

// validate checks the manifest's internal consistency (not completeness):
// a known schema, inputs indexed 0..M-1 with unique, usable stems, and
// samples sorted by (input, k), in range, unique, with well-formed hashes
// and latent codes of LatentDim values when there are latents.
func (m *Manifest) validate() error {
	if m.Schema != ManifestSchema {
		return fmt.Errorf("schema %q, want %q", m.Schema, ManifestSchema)
	}
	if m.Method == "" {
		return fmt.Errorf("no method")
	}
	if m.SamplesPerInput < 1 {
		return fmt.Errorf("samples_per_input %d, want at least 1", m.SamplesPerInput)
	}
	if len(m.Inputs) == 0 {
		return fmt.Errorf("no inputs")
	}
	if m.SamplesPerInput > MaxSamples || len(m.Inputs)*m.SamplesPerInput > MaxSamples {
		return fmt.Errorf("%d inputs x samples_per_input %d: more than the %d samples a store holds", len(m.Inputs), m.SamplesPerInput, MaxSamples)
	}
	switch m.LatentSource {
	case LatentsSeed, LatentsFile, LatentsNone:
		if m.References != nil {
			return fmt.Errorf("references recorded, but latent_source is %q", m.LatentSource)
		}
	case LatentsReference:
		if m.References == nil || len(m.References.Files) == 0 {
			return errors.New("latent_source reference without its references")
		}
		if o := m.References.Order; o != ReferenceRandom && o != ReferenceSorted {
			return fmt.Errorf("references.order %q, want random or sorted", o)
		}
	default:
		return fmt.Errorf("latent_source %q, want seed, file, reference or none", m.LatentSource)
	}
	if want := randomnessOf(m); m.Randomness != "" && m.Randomness != want {
		return fmt.Errorf("randomness %q, but the latent source, noise inputs and folder say %q", m.Randomness, want)
	}
	for j, n := range m.Noise {
		if err := n.Validate(); err != nil {
			return fmt.Errorf("noise[%d]: %w", j, err)
		}
	}
	stems := map[string]int{}
	for i, in := range m.Inputs {
		if in.Index != i {
			return fmt.Errorf("inputs[%d] has index %d", i, in.Index)
		}
		if err := checkStem(in.Stem); err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
		if j, dup := stems[in.Stem]; dup {
			return fmt.Errorf("inputs %d and %d share the stem %q", j, i, in.Stem)
		}
		stems[in.Stem] = i
		if !hexSHA256.MatchString(in.SHA256) {
			return fmt.Errorf("input %d (%s): malformed sha256 %q", i, in.File, in.SHA256)
		}
	}
	if sh := m.Shard; sh != nil && (sh.Count < 2 || sh.Count > MaxShards || sh.Index < 0 || sh.Index >= sh.Count) {
		return fmt.Errorf("shard %d/%d, want 0 <= I < N and 2 <= N <= %d", sh.Index, sh.Count, MaxShards)
	}
	prev := -1
	for j, s := range m.Samples {
		if err := m.checkSample(j, s, &prev); err != nil {
			return err
		}
	}
	return nil
}

// checkSample checks samples[j] = s: owned by the fragment's shard, in
// range, after the sample whose key (input*K + k) is *prev, with a
// well-formed hash and a latent of LatentDim values; it advances *prev.
func (m *Manifest) checkSample(j int, s Sample, prev *int) error {
	if m.Shard != nil && !m.Shard.Owns(s.Input) {
		return fmt.Errorf("samples[%d] (input %d) is not an input of shard %s", j, s.Input, m.Shard)
	}
	if s.Input < 0 || s.Input >= len(m.Inputs) || s.K < 0 || s.K >= m.SamplesPerInput {
		return fmt.Errorf("samples[%d] (input %d, k %d) out of range (%d inputs, %d samples each)", j, s.Input, s.K, len(m.Inputs), m.SamplesPerInput)
	}
	key := s.Input*m.SamplesPerInput + s.K
	if key <= *prev {
		return fmt.Errorf("samples[%d] (input %d, k %d) is out of order or repeated", j, s.Input, s.K)
	}
	if !hexSHA256.MatchString(s.SHA256) {
		return fmt.Errorf("sample (input %d, k %d): malformed sha256 %q", s.Input, s.K, s.SHA256)
	}
	if m.LatentSource != LatentsNone && len(s.Latent) != m.LatentDim {
		return fmt.Errorf("sample (input %d, k %d): latent of %d values, want latent_dim %d", s.Input, s.K, len(s.Latent), m.LatentDim)
	}
	if (m.LatentSource == LatentsReference) != (s.Reference != "") {
		return fmt.Errorf("sample (input %d, k %d): reference %q does not fit latent_source %s", s.Input, s.K, s.Reference, m.LatentSource)
	}
	*prev = key
	return nil
}

// Complete reports whether every sample of every input is listed.
func (m *Manifest) Complete() bool {
	return len(m.Samples) == len(m.Inputs)*m.SamplesPerInput
}

// write writes the manifest atomically to dir/manifest.json, or for a
// shard's fragment to dir/manifest.shard-I-of-N.json. The encoding is
// deterministic (sorted samples, no timestamps), so two runs that produce
// the same samples write the same bytes.
func (m *Manifest) write(dir string) error {
	name := ManifestName
	if m.Shard != nil {
		name = fragmentName(*m.Shard)
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	b = append(b, '\n')
	return atomicfile.Write(filepath.Join(dir, name), b, 0o644)
}

// checkStem rejects stems that cannot name a sample folder.
func checkStem(stem string) error {
	switch {
	case stem == "" || stem == "." || stem == "..":
		return fmt.Errorf("stem %q cannot name a sample folder", stem)
	case strings.ContainsAny(stem, `/\`):
		return fmt.Errorf("stem %q contains a path separator", stem)
	case strings.HasPrefix(stem, "."):
		return fmt.Errorf("stem %q is hidden", stem)
	case stem == ManifestName || fragmentPattern.MatchString(stem):
		return fmt.Errorf("stem %q would collide with the manifest", stem)
	}
	return nil
}

// readOrSalvage reads path like readManifest; when the file is damaged (cut
// short by a full disk or an interrupted copy, say), it keeps what is
// intact instead (salvageManifest).
func readOrSalvage(path string) (*Manifest, error) {
	m, err := readManifest(path)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	b, rerr := os.ReadFile(path)
	if rerr != nil {
		return nil, err
	}
	s, serr := salvageManifest(b)
	if serr != nil {
		return nil, fmt.Errorf("%w; the damage reaches the run's description, so it cannot be repaired (%v)", err, serr)
	}
	return s, nil
}

// salvageManifest parses a damaged manifest's intact part: every top-level
// field that parses whole, and the sample records before the damage that
// are well-formed, in range and in order. The fields that describe the run
// (everything before "samples" in the encoding) must all be intact and
// valid; samples are only ever reused after their file's SHA-256 is checked.
func salvageManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	var samples []json.RawMessage
fields:
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := t.(string)
		if key == "samples" {
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				break
			}
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					break fields
				}
				samples = append(samples, raw)
			}
			if _, err := dec.Token(); err != nil {
				break
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		fields[key] = raw
	}
	fields["samples"] = json.RawMessage("[]")
	obj, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	var m Manifest
	d := json.NewDecoder(bytes.NewReader(obj))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m.Randomness == "" {
		m.Randomness = randomnessOf(&m)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	prev := -1
	for _, raw := range samples {
		var s Sample
		if json.Unmarshal(raw, &s) == nil && m.checkSample(len(m.Samples), s, &prev) == nil {
			m.Samples = append(m.Samples, s)
		}
	}
	return &m, nil
}
