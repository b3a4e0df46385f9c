package evaluate

import (
	"errors"
	"github.com/munit-eval/munit-eval/registry"
	"strings"
	"testing"
)

func TestDefaultProtocolIsThePapers(t *testing.T) {
	p := DefaultProtocol()
	if p.NumInputs != 100 || p.SamplesPerInput != 100 || p.Pairs != 19 || p.Pairing != "independent" || p.Bootstrap != 2000 ||
		p.Splits != 10 || p.FIDBootstrap != registry.AutoFIDBootstrap || p.KIDSubsets != 100 || p.KIDSubsetSize != 1000 {
		t.Fatalf("%+v", p)
	}
	if err := p.Validate(AllMetrics()); err != nil {
		t.Fatal(err)
	}
	// 2P = 38 samples for the LPIPS pairs, K = 100 for the rest.
	if p.LPIPSSamples() != 38 || p.SamplesNeeded(Metrics{LPIPS: true}) != 38 || p.SamplesNeeded(AllMetrics()) != 100 ||
		p.SamplesNeeded(Metrics{}) != 1 {
		t.Fatal("samples needed")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Protocol)
		w     Metrics
		field string // "" for valid
		rule  string
	}{
		{"defaults", func(*Protocol) {}, AllMetrics(), "", ""},
		{"zero inputs", func(p *Protocol) { p.NumInputs = 0 }, AllMetrics(), "num_inputs", "at least 1"},
		{"zero samples", func(p *Protocol) { p.SamplesPerInput = 0 }, Metrics{IS: true}, "samples_per_input", "at least 1"},
		{"zero pairs", func(p *Protocol) { p.Pairs = 0 }, Metrics{LPIPS: true}, "pairs", "at least 1"},
		{"bootstrap 0 for IS", func(p *Protocol) { p.Bootstrap = 0 }, Metrics{IS: true, FID: true}, "", ""},
		{"bootstrap 0 for LPIPS", func(p *Protocol) { p.Bootstrap = 0 }, Metrics{LPIPS: true}, "bootstrap", "LPIPS diversity"},
		{"negative bootstrap", func(p *Protocol) { p.Bootstrap = -1 }, Metrics{IS: true}, "bootstrap", "at least 0"},
		{"zero splits", func(p *Protocol) { p.Splits = 0 }, Metrics{IS: true}, "splits", "at least 1"},
		{"negative size", func(p *Protocol) { p.Size = -1 }, Metrics{}, "size", "at least 0"},
		{"zero batch", func(p *Protocol) { p.Batch = 0 }, Metrics{}, "batch", "at least 1"},
		{"fid bootstrap auto", func(p *Protocol) { p.FIDBootstrap = -1 }, Metrics{FID: true}, "", ""},
		{"fid bootstrap below auto", func(p *Protocol) { p.FIDBootstrap = -2 }, Metrics{FID: true}, "fid_bootstrap", "at least -1"},
		{"zero kid subsets", func(p *Protocol) { p.KIDSubsets = 0 }, Metrics{KID: true}, "kid_subsets", "at least 1"},
		{"zero kid subset size", func(p *Protocol) { p.KIDSubsetSize = 0 }, Metrics{KID: true}, "kid_subset_size", "at least 1"},
		{"negative num_real", func(p *Protocol) { p.NumReal = -3 }, Metrics{}, "num_real", "at least 0"},
		{"bad select", func(p *Protocol) { p.Select = "last" }, Metrics{}, "select", "first or random"},
		{"bad pairing", func(p *Protocol) { p.Pairing = "random" }, Metrics{}, "pairing", "unknown pairing"},
		{"all with one sample", func(p *Protocol) { p.Pairing, p.SamplesPerInput = "all", 1 }, Metrics{LPIPS: true}, "samples_per_input", "pairing all"},
		// Upper bounds: no value may crash the process or exhaust the machine.
		{"size 100000", func(p *Protocol) { p.Size = 100000 }, Metrics{}, "size", "at most 4096"},
		{"size 12000", func(p *Protocol) { p.Size = 12000 }, Metrics{}, "size", "pixel budget"},
		{"size at the budget, batch 4", func(p *Protocol) { p.Size, p.Batch = 4096, 4 }, Metrics{}, "", ""},
		{"size 4096, batch 16", func(p *Protocol) { p.Size = 4096 }, Metrics{}, "batch", "lower batch to 4"},
		{"batch 1e6", func(p *Protocol) { p.Batch = 1_000_000 }, Metrics{}, "batch", "at most 1024"},
		{"threads-like count of inputs", func(p *Protocol) { p.NumInputs = 1 << 40 }, Metrics{}, "num_inputs", "at most"},
		{"bootstrap 1e9", func(p *Protocol) { p.Bootstrap = 1e9 }, Metrics{IS: true}, "bootstrap", "at most 100000"},
		{"fid bootstrap 1e6", func(p *Protocol) { p.FIDBootstrap = 1e6 }, Metrics{FID: true}, "fid_bootstrap", "at most 1000"},
		{"kid subsets 1e9", func(p *Protocol) { p.KIDSubsets = 1e9 }, Metrics{KID: true}, "kid_subsets", "at most"},
		{"num_real 1e12", func(p *Protocol) { p.NumReal = 1e12 }, Metrics{FID: true}, "num_real", "at most"},
		{"too many samples", func(p *Protocol) { p.NumInputs, p.SamplesPerInput = 1_000_000, 10_000 }, Metrics{IS: true}, "num_inputs", "10000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultProtocol()
			c.edit(&p)
			err := p.Validate(c.w)
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

func TestParseMetrics(t *testing.T) {
	w, err := ParseMetrics([]string{"lpips", "kid"})
	if err != nil || w != (Metrics{LPIPS: true, KID: true}) || !w.Distance() || !w.PerSample() {
		t.Fatalf("%+v %v", w, err)
	}
	if _, err := ParseMetrics([]string{"psnr"}); err == nil || !strings.Contains(err.Error(), `"psnr"`) {
		t.Fatalf("error %v", err)
	}
}

func TestFewerInputs(t *testing.T) {
	m, w, err := fewer("in", 3, 5, false)
	if err != nil || m != 3 || len(w) != 1 || !strings.Contains(w[0].Detail, "in holds 3 inputs, fewer than num_inputs 5") {
		t.Fatalf("%d %v %v", m, w, err)
	}
	if _, _, err := fewer("in", 3, 5, true); err == nil {
		t.Fatal("an explicit count above the folder's is accepted")
	}
	if m, w, _ := fewer("in", 9, 5, true); m != 5 || w != nil {
		t.Fatalf("%d %v", m, w)
	}
}
