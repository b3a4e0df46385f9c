// Package pipeline runs a whole evaluation declared in one YAML file
// (munit-eval run eval.yaml): every method of every dataset through the
// sample store, then LPIPS diversity, IS/CIS and FID/KID from the same
// samples, one results document per (method, dataset), and the report.
//
// Nothing is computed twice: samples are drawn once per method and serve
// every metric (the LPIPS pairs use the first samples of each input), and
// the store caches embeddings and classifier outputs by image hash.
package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/results"
	"github.com/munit-eval/munit-eval/translate"
)

var safeName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Config is an evaluation file. Paths are relative to the file's folder.
type Config struct {
	// Out is the output folder: store/, results/ and report/ go inside.
	Out  string `yaml:"out"`
	Seed int64  `yaml:"seed"`
	// Seeds repeats the whole evaluation once per seed (each seed's
	// documents in results/seed-<S>/) and writes the mean over seeds
	// (results.SeedRuns); Seed is then the first of them.
	Seeds    []int64           `yaml:"seeds"`
	Protocol evaluate.Protocol `yaml:"protocol"`
	Models   Models            `yaml:"models"`
	// Metrics are registry keys (default: registry.Defaults()).
	Metrics  []string  `yaml:"metrics"`
	Datasets []Dataset `yaml:"datasets"`
	// Report writes REPORT (Out/report) with munit-eval report when true.
	Report *bool `yaml:"report"`
	// Cache keeps pair distances, embeddings and classifier outputs in the
	// store's .cache/ (default true); CacheEmbeddings also keeps full LPIPS
	// embeddings, for re-pairing.
	Cache           *bool `yaml:"cache"`
	CacheEmbeddings bool  `yaml:"cache_embeddings"`
	// KeepSamples is run --keep-samples: all (default), grid or none.
	KeepSamples string `yaml:"keep_samples"`

	dir  string
	file string
	// protocolLine is the line of the protocol section, for its errors;
	// seedsLine the line of seeds.
	protocolLine, seedsLine int
	// seedDir is seed-<S> in one seed's run of a file with seeds: its
	// results go to results/seed-<S>/.
	seedDir string
	// Notes are what the file should change but that runs (a deprecated
	// key), shown on the run's log.
	Notes []string
}

// Models are the shared scoring models.
type Models struct {
	LPIPS      Path `yaml:"lpips"`
	Classifier Path `yaml:"classifier"`
	// Features is the FID/KID feature model (default: Classifier).
	Features Path `yaml:"features"`
	// MetricFeatures names, by metric key, a metric's own features model
	// ({fd: dinov2.onnx, cmmd: clip.onnx}); the others use Features.
	MetricFeatures map[string]Path `yaml:"metric_features"`
}

// Dataset is one translation task: its inputs, real targets and methods.
type Dataset struct {
	Name   string `yaml:"name"`
	Inputs Path   `yaml:"inputs"`
	Real   Path   `yaml:"real"`
	// RealSize resizes the real images (0: the protocol's size);
	// RealStats replaces Real for FID with published statistics (.npz).
	RealSize  int      `yaml:"real_size"`
	RealStats Path     `yaml:"real_stats"`
	Methods   []Method `yaml:"methods"`
	// Domains is a folder laid out as StarGAN v2's (train/<domain>,
	// val/<domain>): the dataset expands into its tasks (expandDomains),
	// each a dataset of its own named NAME.S2T, with Group NAME and Task
	// S2T.
	Domains Path `yaml:"domains"`

	// Group and Task name the domains dataset and the task a dataset was
	// expanded from ("" for a plain dataset).
	Group, Task string `yaml:"-"`
	line        int
}

// Method is one model to evaluate: a generator, a two-stage pair, a folder
// of pre-generated outputs copied into the store, or samples read where
// they are (a store folder or a plain folder).
type Method struct {
	Name           string `yaml:"name"`
	Generator      Path   `yaml:"generator"`
	ContentEncoder Path   `yaml:"content_encoder"`
	Decoder        Path   `yaml:"decoder"`
	Folder         Path   `yaml:"folder"`
	Samples        Path   `yaml:"samples"`
	// Latents are the latent codes (.npy) instead of drawing them.
	Latents Path `yaml:"latents"`
	// StyleEncoder and References make the generator reference-guided,
	// Mapping multi-domain latent-guided; TargetDomain names the target
	// domain of a multi-domain model (translate's flags of the same names).
	StyleEncoder   Path   `yaml:"style_encoder"`
	References     Path   `yaml:"references"`
	ReferenceOrder string `yaml:"reference_order"`
	Mapping        Path   `yaml:"mapping"`
	TargetDomain   string `yaml:"target_domain"`

	line int
}

// Path is a file or folder named in the YAML, with the line it was named
// on for error messages.
type Path struct {
	Value string
	Line  int
}

// UnmarshalYAML records the line of a path.
func (p *Path) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a path, got a %s", n.Line, kindName(n.Kind))
	}
	p.Value, p.Line = n.Value, n.Line
	return nil
}

func (d *Dataset) UnmarshalYAML(n *yaml.Node) error {
	type plain Dataset
	if err := decodeStrict(n, (*plain)(d)); err != nil {
		return err
	}
	d.line = n.Line
	return nil
}

func (m *Method) UnmarshalYAML(n *yaml.Node) error {
	type plain Method
	if err := decodeStrict(n, (*plain)(m)); err != nil {
		return err
	}
	m.line = n.Line
	return nil
}

// UnmarshalYAML decodes the whole file strictly: unknown keys and
// fractional or non-numeric integers are errors naming their line.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	type plain Config
	if err := checkKeys(n, (*plain)(c)); err != nil {
		return err
	}
	given, metricsGiven := map[string]bool{}, false
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "protocol":
			v := n.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				// protocol: NAME is a preset with nothing overridden.
				v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: v.Line, Column: v.Column,
					Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "preset", Line: v.Line}, v}}
				n.Content[i+1] = v
			}
			if err := checkKeys(v, &c.Protocol); err != nil {
				return err
			}
			c.protocolLine = v.Line
			for j := 0; j+1 < len(v.Content); j += 2 {
				given[v.Content[j].Value] = true
			}
		case "seed":
			given["seed"] = true
		case "seeds":
			given["seeds"] = true
			c.seedsLine = n.Content[i+1].Line
			// yaml.v3 truncates 5.5 to 5 in a list of integers too.
			for _, e := range n.Content[i+1].Content {
				if e.Kind == yaml.ScalarNode && e.ShortTag() != "!!int" {
					return fmt.Errorf("line %d: seeds: want whole numbers, got %q", e.Line, e.Value)
				}
			}
		case "metrics":
			metricsGiven = true
		}
	}
	if given["fid_bootstrap"] {
		c.Notes = append(c.Notes, "protocol: fid_bootstrap is deprecated: the FID interval is a jackknife over input groups and the count was never used; write fid_interval: on, off or auto")
	}
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Protocol.Given = given
	if c.Protocol.Preset != "" {
		if err := evaluate.ApplyPreset(&c.Protocol, c.Protocol.Preset); err != nil {
			return fmt.Errorf("line %d: %w", c.protocolLine, err)
		}
		if !metricsGiven {
			c.Metrics = evaluate.PresetMetrics(c.Protocol.Preset)
		}
		if ps, _ := evaluate.PresetNamed(c.Protocol.Preset); ps.Seed != nil && !given["seed"] && !given["seeds"] {
			c.Seed = *ps.Seed
		}
	}
	if given["seeds"] {
		if given["seed"] {
			return fmt.Errorf("line %d: give seed or seeds, not both (seeds repeats the evaluation once per seed)", c.seedsLine)
		}
		if len(c.Seeds) == 0 {
			return fmt.Errorf("line %d: seeds is empty: list the seeds to repeat the evaluation with, or leave it out", c.seedsLine)
		}
		seen := map[int64]bool{}
		for _, s := range c.Seeds {
			if seen[s] {
				return fmt.Errorf("line %d: seeds lists %d twice", c.seedsLine, s)
			}
			seen[s] = true
		}
		c.Seed = c.Seeds[0]
	}
	return nil
}

// decodeStrict decodes a node rejecting unknown keys (yaml.v3's KnownFields
// applies only at the top level of a Decoder, so nested nodes re-encode).
func decodeStrict(n *yaml.Node, v any) error {
	if err := checkKeys(n, v); err != nil {
		return err
	}
	return n.Decode(v)
}

// checkKeys refuses a mapping with a key v has no field for, or an integer
// field given a value that is not an integer (yaml.v3 would truncate 4.5
// to 4).
func checkKeys(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping, got a %s", n.Line, kindName(n.Kind))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		isInt, ok := fieldIsInt(v, k.Value)
		if !ok {
			return fmt.Errorf("line %d: unknown key %q", k.Line, k.Value)
		}
		if isInt && val.Kind == yaml.ScalarNode && val.ShortTag() != "!!int" {
			return fmt.Errorf("line %d: %s: want a whole number, got %q", val.Line, k.Value, val.Value)
		}
	}
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		return "value"
	}
	return "node"
}

// Load reads and validates an evaluation file. Errors carry the file name
// and the YAML line.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes and validates an evaluation file's bytes; path names it in
// errors and anchors its relative paths.
func Parse(path string, b []byte) (*Config, error) {
	c := &Config{Protocol: evaluate.DefaultProtocol(), Metrics: registry.Defaults()}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty evaluation file", path)
		}
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: line %d: a second YAML document: an evaluation file holds one", path, extra.Line)
	}
	c.Protocol.Seed = c.Seed
	c.file = path
	c.dir = filepath.Dir(path)
	if err := c.expandDomains(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Resolve returns a path of the file relative to the file's folder.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Wants reports whether the metrics list names m.
func (c *Config) Wants(m string) bool {
	for _, x := range c.Metrics {
		if x == m {
			return true
		}
	}
	return false
}

// WantsReport reports whether the report is asked for (default true).
func (c *Config) WantsReport() bool { return c.Report == nil || *c.Report }

// Entries are the metrics the file asks for, in the registry's order.
func (c *Config) Entries() []*registry.Entry {
	pl := evaluate.Plan{Metrics: c.Metrics}
	es, _ := pl.Entries() // validate checked them
	return es
}

func (c *Config) validate() error {
	if c.Out == "" {
		return errors.New("no out: name the output folder")
	}
	pl := evaluate.Plan{Metrics: c.Metrics}
	es, err := pl.Entries()
	if err != nil {
		return err
	}
	if err := c.Protocol.Validate(es); err != nil {
		if c.protocolLine == 0 {
			return fmt.Errorf("protocol: %w", err)
		}
		return fmt.Errorf("line %d: %w", c.protocolLine, err)
	}
	needs := registry.NeedsOf(es)
	if needs.Has(registry.NeedPairs) && c.Models.LPIPS.Value == "" {
		return errors.New("metrics name lpips but models has no lpips model")
	}
	if needs.Has(registry.NeedLogits) && c.Models.Classifier.Value == "" {
		return errors.New("metrics name is but models has no classifier")
	}
	for _, e := range es {
		if e.Needs.Has(registry.NeedFeatures) && c.Models.Features.Value == "" && c.Models.Classifier.Value == "" && c.Models.MetricFeatures[e.Key].Value == "" {
			return fmt.Errorf("metrics name %s but models has no features (or classifier) model, nor metric_features.%s", e.Key, e.Key)
		}
	}
	files := []Path{c.Models.LPIPS, c.Models.Classifier, c.Models.Features}
	for _, k := range slices.Sorted(maps.Keys(c.Models.MetricFeatures)) {
		if e := registry.Lookup(k); e == nil || !e.Needs.Has(registry.NeedFeatures) {
			return fmt.Errorf("line %d: metric_features names %q, not a metric of a features model", c.Models.MetricFeatures[k].Line, k)
		}
		files = append(files, c.Models.MetricFeatures[k])
	}
	for _, m := range files {
		if err := c.checkFile(m, false); err != nil {
			return err
		}
	}
	if _, err := translate.ParseKeep(c.KeepSamples); err != nil {
		return err
	}
	if len(c.Datasets) == 0 {
		return errors.New("no datasets")
	}
	names := map[string]int{}
	for _, d := range c.Datasets {
		if d.Name == "" {
			return fmt.Errorf("line %d: dataset without a name", d.line)
		}
		if !safeName.MatchString(d.Name) {
			return fmt.Errorf("line %d: dataset name %q: use letters, digits, '.', '_' and '-' (it names folders)", d.line, d.Name)
		}
		if prev, dup := names[d.Name]; dup {
			return fmt.Errorf("line %d: dataset %q already declared on line %d", d.line, d.Name, prev)
		}
		names[d.Name] = d.line
		if d.Inputs.Value == "" {
			return fmt.Errorf("line %d: dataset %q has no inputs folder", d.line, d.Name)
		}
		if err := c.checkFile(d.Inputs, true); err != nil {
			return err
		}
		if err := c.checkFile(d.Real, true); err != nil {
			return err
		}
		if err := c.checkFile(d.RealStats, false); err != nil {
			return err
		}
		if needs.Has(registry.NeedReal) && d.Real.Value == "" && d.RealStats.Value == "" {
			return fmt.Errorf("line %d: dataset %q: fid/kid/prdc need a real folder (or, for fid, real_stats)", d.line, d.Name)
		}
		if least, most, _ := evaluate.Bounds("size"); d.RealSize < least || d.RealSize > most {
			return fmt.Errorf("line %d: dataset %q: real_size must be between %d and %d, got %d", d.line, d.Name, least, most, d.RealSize)
		}
		if len(d.Methods) == 0 {
			return fmt.Errorf("line %d: dataset %q has no methods", d.line, d.Name)
		}
		// Methods name store folders and results files: two names that
		// map to one folder, or to the real-data row's, would overwrite
		// each other.
		realDir, _ := translate.MethodDir(results.MethodRealData)
		dirs := map[string]Method{realDir: {Name: results.MethodRealData}}
		for _, m := range d.Methods {
			if err := c.validateMethod(m); err != nil {
				return err
			}
			dir, err := translate.MethodDir(m.Name)
			if err != nil {
				return fmt.Errorf("line %d: method %q: %w", m.line, m.Name, err)
			}
			if prev, dup := dirs[dir]; dup {
				if prev.Name == results.MethodRealData {
					return fmt.Errorf("line %d: method name %q is taken by the real-data row", m.line, m.Name)
				}
				return fmt.Errorf("line %d: method %q: its folder %s is also that of %q, declared on line %d", m.line, m.Name, dir, prev.Name, prev.line)
			}
			dirs[dir] = m
		}
	}
	return nil
}

func (c *Config) validateMethod(m Method) error {
	if m.Name == "" {
		return fmt.Errorf("line %d: method without a name", m.line)
	}
	kinds := 0
	for _, p := range []Path{m.Generator, m.ContentEncoder, m.Folder, m.Samples} {
		if p.Value != "" {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		return fmt.Errorf("line %d: method %q: give exactly one of generator, content_encoder (with decoder), folder or samples", m.line, m.Name)
	case m.Latents.Value != "" && m.Generator.Value == "" && m.ContentEncoder.Value == "":
		return fmt.Errorf("line %d: method %q: latents need a generator or content_encoder", m.Latents.Line, m.Name)
	case m.ContentEncoder.Value != "" && m.Decoder.Value == "":
		return fmt.Errorf("line %d: method %q: content_encoder needs a decoder", m.ContentEncoder.Line, m.Name)
	case m.Decoder.Value != "" && m.ContentEncoder.Value == "":
		return fmt.Errorf("line %d: method %q: decoder needs a content_encoder", m.Decoder.Line, m.Name)
	case (m.StyleEncoder.Value != "" || m.Mapping.Value != "") && m.Generator.Value == "" && m.ContentEncoder.Value == "":
		return fmt.Errorf("line %d: method %q: style_encoder and mapping need a generator or content_encoder", m.line, m.Name)
	}
	for _, p := range []Path{m.Generator, m.ContentEncoder, m.Decoder, m.Latents, m.StyleEncoder, m.Mapping} {
		if err := c.checkFile(p, false); err != nil {
			return err
		}
	}
	if err := c.checkFile(m.References, true); err != nil {
		return err
	}
	if err := c.checkFile(m.Samples, true); err != nil {
		return err
	}
	return c.checkFile(m.Folder, true)
}

// checkFile checks that a named path exists and is a folder (dir) or a file.
func (c *Config) checkFile(p Path, dir bool) error {
	if p.Value == "" {
		return nil
	}
	st, err := os.Stat(c.Resolve(p.Value))
	switch {
	case err != nil:
		return fmt.Errorf("line %d: %s: no such file or folder", p.Line, p.Value)
	case dir && !st.IsDir():
		return fmt.Errorf("line %d: %s: not a folder", p.Line, p.Value)
	case !dir && st.IsDir():
		return fmt.Errorf("line %d: %s: is a folder, want a file", p.Line, p.Value)
	}
	return nil
}
