package evaluate

// Protocol presets: the published protocols a researcher reports beside
// MUNIT's, each with the file its constants come from (docs/protocols.md).

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/translate"
)

// Preset is a published evaluation protocol: the values it sets and where
// they come from. An evaluation names it (protocol: NAME, or preset: NAME
// inside the protocol section, whose other keys then override it), and
// every results document records it (Protocol.Preset).
type Preset struct {
	Name string
	// Paper is who reports numbers under it; Source the file or section
	// its constants are read from.
	Paper, Source string
	// Set writes the preset's values over the defaults; Keys names them
	// (yaml keys), which then count as given.
	Set  func(p *Protocol)
	Keys []string
	// Metrics are what the paper reports (registry keys that exist in this
	// build): the metrics when the evaluation names none.
	Metrics []string
	// LPIPSVersion is the LPIPS version of the paper's published values,
	// "" when unknown; a run scored with another version gets a warning,
	// since v0.0 values are about half of v0.1's.
	LPIPSVersion string
	// AllInputs uses every input of the folder unless num_inputs is given
	// (StarGAN v2 translates every val image): no cut, no warning.
	AllInputs bool
	// Seed, when not nil, is the seed unless the evaluation gives one.
	Seed *int64
}

// stargan is the StarGAN v2 protocol (clovaai/stargan-v2 @875b70a
// metrics/eval.py): 10 outputs per val image of the source domain, LPIPS
// over all 45 pairs of them, FID per task; main.py's --seed 777.
func stargan(p *Protocol) {
	p.SamplesPerInput, p.Pairs, p.Pairing, p.Trials = 10, 45, string(lpips.All), 1
}

var seed777 = int64(777)

// presets are in the order docs/protocols.md lists them.
var presets = []Preset{
	{Name: "munit", Paper: "Huang et al., ECCV 2018 (MUNIT), section 5",
		Source: "the paper's section 5: 100 inputs, 19 pairs of independently sampled outputs each, IS/CIS over 100 outputs per input",
		Set: func(p *Protocol) {
			p.NumInputs, p.SamplesPerInput, p.Pairs, p.Pairing, p.Trials = 100, 100, 19, string(lpips.Independent), 1
		},
		Keys:    []string{"num_inputs", "samples_per_input", "pairs", "pairing", "trials"},
		Metrics: []string{registry.KeyLPIPS, registry.KeyIS}, LPIPSVersion: "0.0"},
	{Name: "bicyclegan", Paper: "Zhu et al., NeurIPS 2017 (BicycleGAN), section 4.1",
		Source: "the paper's 1,900 pairs from 100 inputs, pairs of consecutive samples (j, j+1) of 20",
		Set: func(p *Protocol) {
			p.NumInputs, p.SamplesPerInput, p.Pairs, p.Pairing, p.Trials = 100, 20, 19, string(lpips.Consecutive), 1
		},
		Keys:    []string{"num_inputs", "samples_per_input", "pairs", "pairing", "trials"},
		Metrics: []string{registry.KeyLPIPS}, LPIPSVersion: "0.0"},
	{Name: "msgan", Paper: "Mao et al., CVPR 2019 (MSGAN), section 4",
		Source: "50 outputs per input, LPIPS over 50 random pairs of them, NDB and JSD on pixels with whitening",
		Set: func(p *Protocol) {
			p.SamplesPerInput, p.Pairs, p.Pairing, p.Trials, p.NDBWhiten = 50, 50, string(lpips.Random), 1, true
		},
		Keys:    []string{"samples_per_input", "pairs", "pairing", "trials", "ndb_whiten"},
		Metrics: []string{registry.KeyLPIPS, registry.KeyFID, "ndb"}},
	{Name: "dsgan", Paper: "Yang et al., ICLR 2019 (DSGAN), section 5",
		Source: "maga33/DSGAN Image2ImageTranslation/code/trainer.py LPIPS_eval with the README's --eval_num 100 --sample_num 20 --try_num 20: " +
			"20 trials, each 20 pairs of fresh samples for each of 100 inputs, mean and numpy std over trials; FID on 100 x 20 outputs",
		Set: func(p *Protocol) {
			p.NumInputs, p.Select, p.SamplesPerInput, p.Pairs, p.Pairing, p.Trials = 100, translate.SelectRandom, 20, 20, string(lpips.Independent), 20
		},
		Keys:    []string{"num_inputs", "select", "samples_per_input", "pairs", "pairing", "trials"},
		Metrics: []string{registry.KeyLPIPS, registry.KeyFID}, LPIPSVersion: "0.0"},
	{Name: "stargan-v2-latent", Paper: "Choi et al., CVPR 2020 (StarGAN v2), section 4 and table 2, latent-guided",
		Source: "clovaai/stargan-v2 @875b70a metrics/eval.py calculate_metrics(mode='latent'): every val image of the source domain, " +
			"10 outputs each from the mapping network, LPIPS over all 45 pairs, FID per task against train/<target>; seed 777 (main.py)",
		Set: stargan, Keys: []string{"samples_per_input", "pairs", "pairing", "trials"},
		Metrics: []string{registry.KeyLPIPS, registry.KeyFID}, LPIPSVersion: "0.1", AllInputs: true, Seed: &seed777},
	{Name: "stargan-v2-reference", Paper: "Choi et al., CVPR 2020 (StarGAN v2), section 4 and table 2, reference-guided",
		Source: "clovaai/stargan-v2 @875b70a metrics/eval.py calculate_metrics(mode='reference'): as latent, each output's style " +
			"from a val image of the target domain through the style encoder",
		Set: stargan, Keys: []string{"samples_per_input", "pairs", "pairing", "trials"},
		Metrics: []string{registry.KeyLPIPS, registry.KeyFID}, LPIPSVersion: "0.1", AllInputs: true, Seed: &seed777},
}

// PresetNamed returns the preset of that name.
func PresetNamed(name string) (Preset, bool) {
	i := slices.IndexFunc(presets, func(p Preset) bool { return p.Name == name })
	if i < 0 {
		return Preset{}, false
	}
	return presets[i], true
}

// PresetNames lists the presets' names.
func PresetNames() []string {
	out := make([]string, len(presets))
	for i, p := range presets {
		out[i] = p.Name
	}
	return out
}

// Presets returns every preset, for docs and help.
func Presets() []Preset { return slices.Clone(presets) }

// ApplyPreset writes the preset's values over p where p.Given does not
// name the key (a flag or the evaluation file's own key overrides the
// preset), marks them given (so a count the samples cannot meet is an
// error, as when asked for) and records the preset's name.
func ApplyPreset(p *Protocol, name string) error {
	ps, ok := PresetNamed(name)
	if !ok {
		return &FieldError{"preset", fmt.Sprintf("%q: unknown protocol preset (want %s)", name, strings.Join(PresetNames(), ", "))}
	}
	own := *p
	ps.Set(p)
	v, o := reflect.ValueOf(p).Elem(), reflect.ValueOf(&own).Elem()
	for i := range v.NumField() {
		if k := v.Type().Field(i).Tag.Get("yaml"); own.Given[k] {
			v.Field(i).Set(o.Field(i))
		}
	}
	if ps.Seed != nil && !own.Given["seed"] {
		p.Seed = *ps.Seed // the official evaluation's seed, unless one was asked for
	}
	p.Preset, p.Given = name, maps.Clone(own.Given)
	if p.Given == nil {
		p.Given = map[string]bool{}
	}
	for _, k := range ps.Keys {
		p.Given[k] = true
	}
	return nil
}

// PresetMetrics are the preset's metrics that this build registers.
func PresetMetrics(name string) []string {
	ps, _ := PresetNamed(name)
	var out []string
	for _, k := range ps.Metrics {
		if registry.Lookup(k) != nil {
			out = append(out, k)
		}
	}
	return out
}
