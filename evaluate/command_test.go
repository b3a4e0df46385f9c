package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/synth"
	"github.com/munit-eval/munit-eval/translate"
)

// TestCommandBuild: the folder arguments take the places of --samples and
// --real; contradictory or missing sources, bounds and shards are refused
// naming the flags; a store folder keeps its own caches.
func TestCommandBuild(t *testing.T) {
	base := Command{Plan: Plan{Protocol: DefaultProtocol(), Metrics: []string{"lpips"}}, Store: "store"}
	for _, tc := range []struct {
		name string
		edit func(*Command)
		args []string
		want string
	}{
		{"samples twice", func(c *Command) { c.Source.Samples = "s" }, []string{"dir"}, "the first argument dir names what --samples, --generator or --from-folder names"},
		// It read the folder as samples and failed with "images: stat : no such file or directory".
		{"folder and a folder argument", func(c *Command) { c.Source.Folder, c.Dataset.Inputs = "f", "in" }, []string{"real"}, "the first argument real names what --samples, --generator or --from-folder names"},
		{"real twice", func(c *Command) { c.Dataset.RealStats = "r.npz" }, []string{"dir", "real"}, "the second argument real names what --real or --real-stats names"},
		{"generator and samples", func(c *Command) { c.Source.Generator, c.Source.Samples = "g", "s" }, nil, "give --generator or --samples, not both"},
		{"generator without inputs", func(c *Command) { c.Source.Generator = "g" }, nil, "--generator needs --inputs DIR"},
		{"decoder alone", func(c *Command) { c.Source.Decoder = "d" }, []string{"dir"}, "--decoder needs --generator"},
		{"real and stats", func(c *Command) { c.Dataset.RealStats = "r.npz" }, []string{"dir", "real"}, "names what --real"},
		{"protocol bound", func(c *Command) { c.Plan.Protocol.Pairs = 0 }, []string{"dir"}, "--pairs must be at least 1"},
		{"real size", func(c *Command) { c.Dataset.RealSize = MaxSize + 1 }, []string{"dir"}, "--real-size must be between 0 and 4096"},
		{"shard of samples", func(c *Command) { c.ShardSpec = "0/2" }, []string{"dir"}, "--shard and --shards split the samples --generator makes"},
		{"bad shard", func(c *Command) { c.ShardSpec = "3/2" }, []string{"dir"}, "shard"},
		{"nothing", func(c *Command) {}, nil, "give --generator G.onnx --inputs DIR"},
	} {
		c := base
		tc.edit(&c)
		if _, _, err := c.Build(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}

	c := base
	c.PRDC, c.Dataset.Name = true, "shapes"
	pl, shard, err := c.Build([]string{"samples", "real"})
	if err != nil {
		t.Fatal(err)
	}
	ds := pl.Datasets[0]
	if shard.Sharded() || !reflect.DeepEqual(pl.Metrics, []string{"lpips", "prdc"}) || ds.Real != "real" || ds.Store != "store" ||
		len(ds.Methods) != 1 || ds.Methods[0].Samples != "samples" || !reflect.DeepEqual(c.Plan.Metrics, []string{"lpips"}) {
		t.Errorf("plan %+v, shard %v", pl, shard)
	}
	// The real-data row alone needs no method.
	c = base
	c.Dataset.Real = "real"
	if pl, _, err := c.Build(nil); err != nil || len(pl.Datasets[0].Methods) != 0 {
		t.Errorf("real-data row alone: %v", err)
	}
	// A store folder keeps its caches; a generator's shard is parsed.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "MUNIT"), 0o755)
	os.WriteFile(filepath.Join(dir, "MUNIT", translate.ManifestName), []byte("{}"), 0o644)
	if !IsStore(filepath.Join(dir, "MUNIT")) {
		t.Fatal("a folder with a manifest is not taken for a store")
	}
	c = base
	if pl, _, err := c.Build([]string{filepath.Join(dir, "MUNIT")}); err != nil || pl.Datasets[0].Store != dir {
		t.Errorf("store folder: %v, store %q", err, pl.Datasets[0].Store)
	}
	c = base
	c.Source.Generator, c.Dataset.Inputs, c.ShardSpec = "g.onnx", "in", "1/3"
	if _, shard, err := c.Build(nil); err != nil || shard != (translate.Shard{Index: 1, Count: 3}) {
		t.Errorf("shard %v: %v", shard, err)
	}
}

// TestCommandGenerateShard: a sharded metric command translates the
// shard's inputs of its method into its store, and only those.
func TestCommandGenerateShard(t *testing.T) {
	dir, models := world(t)
	c := Command{Plan: Plan{Protocol: DefaultProtocol(), Metrics: []string{"is"}, Run: RunOptions{Threads: 1, Quiet: true}},
		Source: Source{Generator: models[synth.KeyCycleGAN]}, Dataset: Dataset{Inputs: filepath.Join(dir, "world", "testA")},
		Store: filepath.Join(dir, "store"), ShardSpec: "0/2"}
	c.Plan.Protocol.NumInputs, c.Plan.Protocol.SamplesPerInput = 4, 2
	pl, shard, err := c.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := GenerateShard(context.Background(), pl, shard)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Shard != "0/2" || sum.Computed != 4 || sum.Complete || !strings.HasPrefix(sum.Store, c.Store) {
		t.Errorf("summary %+v", sum)
	}
}

// TestCheckTranslate: translate's zeros keep their meaning, its numbers
// are the protocol's bounds named as flags, and the inputs are checked
// from their headers when a generator runs.
func TestCheckTranslate(t *testing.T) {
	c := translate.DefaultConfig()
	c.NumInputs, c.Samples, c.Streams = 0, 0, 0
	if err := CheckTranslate(c, 0); err != nil {
		t.Errorf("zeros: %v", err)
	}
	c.Batch = 0
	if err := CheckTranslate(c, 0); err == nil || !strings.Contains(err.Error(), "--batch must be at least 1") {
		t.Errorf("batch 0: %v", err)
	}
	c = translate.DefaultConfig()
	c.Generator, c.Inputs = "g.onnx", filepath.Join(t.TempDir(), "none")
	if err := CheckTranslate(c, 0); err == nil {
		t.Error("a missing input folder passed")
	}
}

// TestFlagNames: the flags' names in FlagError and CheckSize, and the
// --classes list.
func TestFlagNames(t *testing.T) {
	if err := FlagError(&FieldError{"num_inputs", "must be at least 1, got 0"}); err.Error() != "--num-inputs must be at least 1, got 0" {
		t.Errorf("FlagError: %v", err)
	}
	other := errors.New("other")
	if FlagError(other) != other || FlagError(nil) != nil {
		t.Error("FlagError changed an error that is no FieldError")
	}
	if err := CheckSize("size", -1); err == nil || err.Error() != "--size must be between 0 and 4096, got -1 (the pixel budget is 4096 x 4096 per image)" {
		t.Errorf("CheckSize: %v", err)
	}
	if err := CheckSize("real-size", 256); err != nil {
		t.Errorf("CheckSize 256: %v", err)
	}
	if got := ClassNames(" cat, dog ,bird"); !reflect.DeepEqual(got, []string{"cat", "dog", "bird"}) || ClassNames("") != nil {
		t.Errorf("ClassNames: %q", got)
	}
}

// TestDistance: the distance command's work on two images (text and
// JSON), two folders, and the usage it refuses.
func TestDistance(t *testing.T) {
	dir, models := world(t)
	names, _ := filepath.Glob(filepath.Join(dir, "world", "testB", "*.png"))
	o := DistanceOptions{LPIPS: models[synth.KeyLPIPS], Run: RunOptions{Threads: 1}}
	var w bytes.Buffer
	if err := Distance(context.Background(), &w, names[0], names[0], o); err != nil || w.String() != "0.000000\n" {
		t.Errorf("an image with itself: %q, %v", w.String(), err)
	}
	w.Reset()
	o.JSON = true
	var got struct {
		Distance float64   `json:"distance"`
		PerLayer []float64 `json:"per_layer"`
	}
	if err := Distance(context.Background(), &w, names[0], names[1], o); err != nil || json.Unmarshal(w.Bytes(), &got) != nil || got.Distance <= 0 || len(got.PerLayer) == 0 {
		t.Errorf("JSON: %v:\n%s", err, w.String())
	}
	w.Reset()
	o.JSON = false
	world := filepath.Join(dir, "world", "testB")
	if err := Distance(context.Background(), &w, world, world, o); err != nil || !strings.Contains(w.String(), "mean") {
		t.Errorf("folders: %v:\n%s", err, w.String())
	}
	for _, tc := range []struct {
		o    DistanceOptions
		a    string
		want string
	}{
		{DistanceOptions{}, names[0], "distance: --lpips L.onnx is required"},
		{DistanceOptions{LPIPS: "l.onnx", Size: -1}, names[0], "distance: --size must be between"},
		{DistanceOptions{LPIPS: "l.onnx"}, world, "distance: give two images or two folders, not one of each"},
		{DistanceOptions{LPIPS: "l.onnx", Run: RunOptions{Memory: 1}}, names[0], "distance: a batch of 2 images"},
	} {
		if err := Distance(context.Background(), &w, tc.a, names[1], tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestCommandBuildRefusesFlagsWithoutEffect: a metric-specific flag that
// was set but changes none of the metrics asked, and --real-stats where
// the metrics (or the command's own metric) cannot use it, are refused in
// one line naming the flag; the same flags with their metric pass.
func TestCommandBuildRefusesFlagsWithoutEffect(t *testing.T) {
	cmd := func(named string, metrics []string, given ...string) Command {
		p := DefaultProtocol()
		p.Given = map[string]bool{}
		for _, g := range given {
			p.Given[g] = true
		}
		return Command{Plan: Plan{Protocol: p, Metrics: metrics}, Named: named,
			Dataset: Dataset{Real: "real"}, Source: Source{Samples: "samples"}}
	}
	stats := func(c Command) Command { c.Dataset.Real, c.Dataset.RealStats = "", "x.npz"; return c }
	for _, tc := range []struct {
		name string
		c    Command
		want string // "" for accepted
	}{
		{"prdc --kid-subsets", cmd("prdc", []string{"prdc"}, "kid_subsets"), "--kid-subsets changes only kid"},
		{"prdc --fid-interval", cmd("prdc", []string{"prdc"}, "fid_interval"), "--fid-interval changes only fid"},
		{"prdc --fid-bootstrap", cmd("prdc", []string{"prdc"}, "fid_bootstrap"), "--fid-bootstrap changes only fid"},
		{"is --pairs", cmd("", []string{"is"}, "pairs"), "--pairs changes only lpips"},
		{"prdc --bins", cmd("prdc", []string{"prdc"}, "ndb_bins"), "--bins changes only ndb"},
		{"fid --metrics fid,ndb --whiten", cmd("fid", []string{"fid", "ndb"}, "ndb_whiten", "ndb_alpha"), ""},
		{"fid --kid-subsets", cmd("fid", []string{"fid", "kid"}, "kid_subsets", "fid_interval"), ""},
		{"prdc --pr-k --seed", cmd("prdc", []string{"prdc"}, "pr_k", "seed"), ""},
		{"kid --real-stats", stats(cmd("kid", []string{"fid", "kid"})), "--real-stats cannot give KID"},
		{"prdc --real-stats", stats(cmd("prdc", []string{"prdc"})), "--real-stats cannot give PRDC"},
		{"--metrics kid --real-stats", stats(cmd("", []string{"kid"})), "--real-stats serves FID and FD only"},
		{"fid --real-stats", stats(cmd("fid", []string{"fid", "kid"})), ""},
	} {
		_, _, err := tc.c.Build(nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s: error %v, want one line with %q", tc.name, err, tc.want)
		}
	}
}
