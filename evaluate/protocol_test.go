package evaluate

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/lpips"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/translate"
)

func TestDefaultProtocolIsThePapers(t *testing.T) {
	p := DefaultProtocol()
	if p.NumInputs != 100 || p.SamplesPerInput != 100 || p.Pairs != 19 || p.Pairing != "independent" || p.Bootstrap != 2000 ||
		p.Splits != 10 || p.FIDBootstrap != registry.AutoFIDBootstrap || p.KIDSubsets != 100 || p.KIDSubsetSize != 1000 {
		t.Fatalf("%+v", p)
	}
	if err := p.Validate(entries(t)); err != nil {
		t.Fatal(err)
	}
	// 2P = 38 samples for the LPIPS pairs, K = 100 for the rest.
	if p.LPIPSSamples() != 38 || p.SamplesNeeded(entries(t, "lpips")) != 38 || p.SamplesNeeded(entries(t)) != 100 ||
		p.SamplesNeeded(nil) != 1 {
		t.Fatal("samples needed")
	}
	// translate's defaults are the protocol's: a default translate serves
	// every default metric.
	if translate.DefaultSamples != p.SamplesNeeded(entries(t)) || translate.DefaultBatch != p.Batch {
		t.Fatalf("translate's K %d and batch %d, the protocol's %d and %d", translate.DefaultSamples, translate.DefaultBatch, p.SamplesNeeded(entries(t)), p.Batch)
	}
	if p.Params().FIDBootstrap != registry.AutoFIDBootstrap || p.FIDInterval != FIDAuto {
		t.Fatal("the FID interval is not automatic by default")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Protocol)
		w     []string
		field string // "" for valid
		rule  string
	}{
		{"defaults", func(*Protocol) {}, []string{}, "", ""},
		{"zero inputs", func(p *Protocol) { p.NumInputs = 0 }, []string{}, "num_inputs", "at least 1"},
		{"zero samples", func(p *Protocol) { p.SamplesPerInput = 0 }, []string{"is"}, "samples_per_input", "at least 1"},
		{"zero pairs", func(p *Protocol) { p.Pairs = 0 }, []string{"lpips"}, "pairs", "at least 1"},
		{"bootstrap 0 for IS", func(p *Protocol) { p.Bootstrap = 0 }, []string{"is", "fid"}, "", ""},
		{"bootstrap 0 for LPIPS", func(p *Protocol) { p.Bootstrap = 0 }, []string{"lpips"}, "bootstrap", "LPIPS diversity"},
		{"negative bootstrap", func(p *Protocol) { p.Bootstrap = -1 }, []string{"is"}, "bootstrap", "at least 0"},
		{"zero splits", func(p *Protocol) { p.Splits = 0 }, []string{"is"}, "splits", "at least 1"},
		{"negative size", func(p *Protocol) { p.Size = -1 }, []string{"none"}, "size", "at least 0"},
		{"zero batch", func(p *Protocol) { p.Batch = 0 }, []string{"none"}, "batch", "at least 1"},
		{"fid bootstrap auto", func(p *Protocol) { p.FIDBootstrap = -1 }, []string{"fid"}, "", ""},
		{"fid bootstrap below auto", func(p *Protocol) { p.FIDBootstrap = -2 }, []string{"fid"}, "fid_bootstrap", "at least -1"},
		{"zero kid subsets", func(p *Protocol) { p.KIDSubsets = 0 }, []string{"kid"}, "kid_subsets", "at least 1"},
		{"zero kid subset size", func(p *Protocol) { p.KIDSubsetSize = 0 }, []string{"kid"}, "kid_subset_size", "at least 1"},
		{"negative num_real", func(p *Protocol) { p.NumReal = -3 }, []string{"none"}, "num_real", "at least 0"},
		{"bad select", func(p *Protocol) { p.Select = "last" }, []string{"none"}, "select", "first or random"},
		{"bad pairing", func(p *Protocol) { p.Pairing = "shuffled" }, []string{"none"}, "pairing", "unknown pairing"},
		{"all with one sample", func(p *Protocol) { p.Pairing, p.SamplesPerInput = "all", 1 }, []string{"lpips"}, "samples_per_input", "pairing all"},
		// Upper bounds: no value may crash the process or exhaust the machine.
		{"size 100000", func(p *Protocol) { p.Size = 100000 }, []string{"none"}, "size", "at most 4096"},
		{"size 12000", func(p *Protocol) { p.Size = 12000 }, []string{"none"}, "size", "pixel budget"},
		{"size at the budget, batch 4", func(p *Protocol) { p.Size, p.Batch = 4096, 4 }, []string{"none"}, "", ""},
		{"size 4096, batch 16", func(p *Protocol) { p.Size = 4096 }, []string{"none"}, "batch", "lower batch to 4"},
		{"batch 1e6", func(p *Protocol) { p.Batch = 1_000_000 }, []string{"none"}, "batch", "at most 1024"},
		{"threads-like count of inputs", func(p *Protocol) { p.NumInputs = 1 << 40 }, []string{"none"}, "num_inputs", "at most"},
		{"bootstrap 1e9", func(p *Protocol) { p.Bootstrap = 1e9 }, []string{"is"}, "bootstrap", "at most 100000"},
		{"fid bootstrap 1e6", func(p *Protocol) { p.FIDBootstrap = 1e6 }, []string{"fid"}, "fid_bootstrap", "at most 1000"},
		{"fid interval maybe", func(p *Protocol) { p.FIDInterval = "maybe" }, []string{"fid"}, "fid_interval", "auto, on or off"},
		{"streams 100", func(p *Protocol) { p.Streams = 100 }, []string{"none"}, "streams", "at most 64"},
		{"kid subsets 1e9", func(p *Protocol) { p.KIDSubsets = 1e9 }, []string{"kid"}, "kid_subsets", "at most"},
		{"num_real 1e12", func(p *Protocol) { p.NumReal = 1e12 }, []string{"fid"}, "num_real", "at most"},
		{"too many samples", func(p *Protocol) { p.NumInputs, p.SamplesPerInput = 1_000_000, 10_000 }, []string{"is"}, "num_inputs", "10000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultProtocol()
			c.edit(&p)
			var es []*registry.Entry
			if len(c.w) == 0 || c.w[0] != "none" {
				es = entries(t, c.w...)
			}
			err := p.Validate(es)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Rule, c.rule) {
				t.Fatalf("error %v, want field %s with %q", err, c.field, c.rule)
			}
		})
	}
}

// TestFIDInterval: fid_interval says what it does; the deprecated
// fid_bootstrap counts only while fid_interval is auto.
func TestFIDInterval(t *testing.T) {
	for _, c := range []struct {
		interval string
		boot     int
		want     int
	}{{FIDAuto, registry.AutoFIDBootstrap, registry.AutoFIDBootstrap}, {FIDOn, registry.AutoFIDBootstrap, 1}, {FIDOff, 50, 0},
		{FIDAuto, 50, 1}, {FIDAuto, 0, 0}} {
		p := DefaultProtocol()
		p.FIDInterval, p.FIDBootstrap = c.interval, c.boot
		if got := p.Params().FIDBootstrap; got != c.want {
			t.Errorf("fid_interval %s, fid_bootstrap %d: %d, want %d", c.interval, c.boot, got, c.want)
		}
	}
}

// TestFewerInputs: num_inputs above what a source holds is an error when
// given and a warning for the default; a default below it says so.
func TestFewerInputs(t *testing.T) {
	p := DefaultProtocol()
	p.NumInputs = 5
	m, w, err := fewer("in", 3, p)
	if err != nil || m != 3 || len(w) != 1 || !strings.Contains(w[0].Detail, "in holds 3 inputs, fewer than num_inputs 5") {
		t.Fatalf("%d %v %v", m, w, err)
	}
	if m, w, _ := fewer("in", 9, p); m != 5 || len(w) != 1 || w[0].Code != CodeCut {
		t.Fatalf("%d %v", m, w)
	}
	p.Given = map[string]bool{"num_inputs": true}
	if _, _, err := fewer("in", 3, p); err == nil {
		t.Fatal("an explicit count above the folder's is accepted")
	}
	if m, w, _ := fewer("in", 9, p); m != 5 || w != nil {
		t.Fatalf("%d %v", m, w)
	}
}

// TestPresets checks every preset against its documented constants'
// invariants: it validates with the metrics it names, its keys are
// protocol keys, a given key overrides it, and it is recorded.
func TestPresets(t *testing.T) {
	for _, ps := range Presets() {
		p := DefaultProtocol()
		if err := ApplyPreset(&p, ps.Name); err != nil {
			t.Fatal(err)
		}
		pl := Plan{Metrics: PresetMetrics(ps.Name)}
		es, err := pl.Entries()
		if err != nil {
			t.Fatalf("%s: %v", ps.Name, err)
		}
		if err := p.Validate(es); err != nil {
			t.Fatalf("%s does not validate: %v", ps.Name, err)
		}
		for _, k := range ps.Keys {
			if !slices.ContainsFunc(reflect.VisibleFields(reflect.TypeOf(p)), func(f reflect.StructField) bool { return f.Tag.Get("yaml") == k }) {
				t.Errorf("%s: key %q is not a protocol key", ps.Name, k)
			}
			if !p.Given[k] {
				t.Errorf("%s: key %q not marked given", ps.Name, k)
			}
		}
		if p.Preset != ps.Name || ps.Paper == "" || ps.Source == "" {
			t.Errorf("%s: not recorded or undocumented", ps.Name)
		}
	}
	p := DefaultProtocol()
	p.Pairs, p.Given = 7, map[string]bool{"pairs": true}
	if err := ApplyPreset(&p, "dsgan"); err != nil || p.Pairs != 7 || p.Trials != 20 || p.PairsDrawn() != 140 || p.LPIPSSamples() != 280 {
		t.Fatalf("dsgan under --pairs 7: %v, %+v", err, p)
	}
	// StarGAN v2's seed 777 applies unless a seed was asked for (a
	// metric command's --seed, the file's seed).
	p = DefaultProtocol()
	if err := ApplyPreset(&p, "stargan-v2-latent"); err != nil || p.Seed != 777 {
		t.Fatalf("stargan-v2-latent seed %d (%v), want 777", p.Seed, err)
	}
	p = DefaultProtocol()
	p.Seed, p.Given = 5, map[string]bool{"seed": true}
	if err := ApplyPreset(&p, "stargan-v2-latent"); err != nil || p.Seed != 5 {
		t.Fatalf("stargan-v2-latent under --seed 5: seed %d (%v)", p.Seed, err)
	}
	if err := ApplyPreset(&p, "cyclegan"); err == nil || !strings.Contains(err.Error(), "unknown protocol preset") {
		t.Fatalf("unknown preset: %v", err)
	}
	// Random pairs beyond the distinct pairs of K samples are refused.
	p = DefaultProtocol()
	p.Pairing, p.SamplesPerInput, p.Pairs = "random", 5, 11
	if err := p.Validate([]*registry.Entry{registry.Lookup(registry.KeyLPIPS)}); err == nil || !strings.Contains(err.Error(), "10 distinct pairs") {
		t.Fatalf("11 random pairs of 5 samples: %v", err)
	}
}

// TestPresetsDocumented keeps docs/protocols.md in step with the presets:
// a section per preset, none for a preset that is gone.
func TestPresetsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "protocols.md"))
	if err != nil {
		t.Fatal(err)
	}
	var sections []string
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "## "); ok && name != "LPIPS versions" {
			sections = append(sections, name)
		}
	}
	if !slices.Equal(sections, PresetNames()) {
		t.Fatalf("docs/protocols.md sections %v, presets %v", sections, PresetNames())
	}
}

// TestStarGANPresets: StarGAN v2's eval.py constants (10 outputs per input,
// all 45 pairs of them, seed 777, LPIPS v0.1 as its lpips.py's scaling
// layer and linear weights) and its use of every val image: no cut and no
// warning at any folder size, unless num_inputs is given.
func TestStarGANPresets(t *testing.T) {
	for _, name := range []string{"stargan-v2-latent", "stargan-v2-reference"} {
		p := DefaultProtocol()
		if err := ApplyPreset(&p, name); err != nil {
			t.Fatal(err)
		}
		ps, _ := PresetNamed(name)
		pairs := lpips.PairIndices(lpips.Pairing(p.Pairing), p.Pairs, p.SamplesPerInput, 0)
		if p.SamplesPerInput != 10 || len(pairs) != 45 || p.LPIPSSamples() != 10 || ps.Seed == nil || *ps.Seed != 777 || ps.LPIPSVersion != "0.1" {
			t.Fatalf("%s: %+v, %d pairs", name, p, len(pairs))
		}
		for _, have := range []int{3, 100, 500, 1000} {
			m, w, err := fewer("val/cat", have, p)
			if err != nil || m != have || len(w) != 0 {
				t.Fatalf("%s, %d inputs: %d, %v, %v", name, have, m, w, err)
			}
		}
		p.NumInputs, p.Given["num_inputs"] = 50, true
		if m, _, err := fewer("val/cat", 500, p); err != nil || m != 50 {
			t.Fatalf("%s under num_inputs 50: %d, %v", name, m, err)
		}
	}
}
