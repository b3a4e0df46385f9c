package evaluate

// What the commands do beyond parsing their flags: the evaluation a metric
// command's flags and folders declare, checked as the evaluation file is;
// one shard of its samples; translate's bounds; and the flags' names in
// errors. The errors here name flags, as the commands print them.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/munit-eval/munit-eval/model"
	"github.com/munit-eval/munit-eval/registry"
	"github.com/munit-eval/munit-eval/translate"
)

// Command is what a metric command (lpips, is/cis, fid/kid, prdc)
// declares: a Plan of one dataset and at most one method's source, the
// store a generator writes to, and how its samples are sharded.
type Command struct {
	Plan    Plan
	Dataset Dataset
	Source  Source
	// Store is the store root the generator writes to, whose .cache/ keeps
	// the caches (a store folder in Source.Samples keeps its own).
	Store string
	// PRDC adds prdc to the metrics.
	PRDC bool
	// ShardSpec and Shards are --shard I/N (auto: from Slurm or
	// Kubernetes) and --shards N: the generator's samples made in parts.
	ShardSpec string
	Shards    int
	// Named is the metric the command is named for ("kid" for kid, which
	// computes FID and KID as fid does): a setting that rules it out, such
	// as --real-stats, is refused rather than giving an empty KID.
	Named string
}

// Build returns the evaluation c declares with args, the folder
// arguments (the samples, then the real images) in the places of
// --samples and --real, checked as the evaluation file is, and the shard
// of the samples to generate instead (not Sharded: measure).
func (c Command) Build(args []string) (Plan, translate.Shard, error) {
	pl, ds, src := c.Plan, c.Dataset, c.Source
	if pl.Protocol.Preset != "" {
		if err := ApplyPreset(&pl.Protocol, pl.Protocol.Preset); err != nil {
			return pl, translate.Shard{}, err
		}
	}
	// A command prints its method's document (lpips: and the real-data
	// LPIPS row); the real-data rows of the other metrics are run's.
	pl.RealRowLPIPS = true
	for i, dst := range []*string{&src.Samples, &ds.Real}[:len(args)] {
		// --from-folder names the samples too: a folder argument beside it
		// would be read as samples with no store to go to.
		if *dst != "" || i == 0 && (src.Generator != "" || src.Folder != "") || i == 1 && ds.RealStats != "" {
			return pl, translate.Shard{}, fmt.Errorf("the %s argument %s names what --%s names: give one of them", []string{"first", "second"}[i], args[i], []string{"samples, --generator or --from-folder", "real or --real-stats"}[i])
		}
		*dst = args[i]
	}
	switch {
	case src.Generator != "" && src.Samples != "":
		return pl, translate.Shard{}, errors.New("give --generator or --samples, not both")
	case (src.Generator != "" || src.Folder != "") && ds.Inputs == "":
		return pl, translate.Shard{}, errors.New("--generator needs --inputs DIR (so does --from-folder)")
	case src.Decoder != "" && src.Generator == "":
		return pl, translate.Shard{}, errors.New("--decoder needs --generator ENC.onnx (the content encoder)")
	case ds.Real != "" && ds.RealStats != "":
		return pl, translate.Shard{}, errors.New("give --real DIR or --real-stats STATS.npz, not both")
	}
	if c.PRDC {
		pl.Metrics = append(pl.Metrics, "prdc")
	}
	es, err := pl.Entries()
	if err == nil {
		err = pl.Protocol.Validate(es)
	}
	if err == nil {
		keys := make([]string, len(es))
		for i, e := range es {
			keys[i] = e.Key
		}
		err = checkEffect(pl.Protocol, keys, ds.RealStats != "", c.Named)
	}
	if err == nil {
		err = CheckSize("real-size", ds.RealSize)
	}
	if err != nil {
		return pl, translate.Shard{}, FlagError(err)
	}
	ds.Store = c.Store
	if src.Samples != "" && IsStore(src.Samples) {
		ds.Store = filepath.Dir(filepath.Clean(src.Samples)) // the store's own .cache/
	}
	if src.Generator != "" || src.Folder != "" || src.Samples != "" {
		ds.Methods = []Source{src}
	}
	pl.Datasets = []Dataset{ds}
	shard, err := translate.ParseShard(c.ShardSpec, c.Shards, os.Getenv)
	switch {
	case err != nil:
		return pl, shard, err
	case shard.Sharded() && c.Source.Generator == "":
		return pl, shard, errors.New("--shard and --shards split the samples --generator makes: measure a store (--samples) in one process")
	case len(ds.Methods) == 0 && (ds.Real == "" || !registry.NeedsOf(es).Has(registry.NeedPairs)):
		return pl, shard, errors.New("give --generator G.onnx --inputs DIR, --samples STORE/<method> or a sample folder DIR (or, for the real-data LPIPS row alone, --real DIR)")
	}
	return pl, shard, nil
}

// GenerateShard is one task of a sharded metric command: shard's part of
// the samples of pl's one method, exactly as the unsharded command would
// translate them; nothing is measured.
func GenerateShard(ctx context.Context, pl Plan, shard translate.Shard) (*translate.Summary, error) {
	es, err := pl.Entries()
	if err != nil {
		return nil, err
	}
	ds := pl.Datasets[0]
	src := ds.Methods[0]
	src.Inputs, src.Store, src.Shard = ds.Inputs, ds.Store, shard
	return Generate(ctx, src, pl.Protocol, pl.Protocol.SamplesNeeded(es), pl.Run)
}

// CheckTranslate bounds translate's numbers with the protocol's (its
// Validate; 0 keeps its meaning of "all" or "automatic"), and checks the
// inputs' sizes against the pixel budgets and the memory avail from their
// headers, before any work.
func CheckTranslate(c translate.Config, avail int64) error {
	p := DefaultProtocol()
	p.NumInputs, p.SamplesPerInput, p.Batch, p.Size, p.Streams, p.Select = c.NumInputs, c.Samples, c.Batch, c.Size, c.Streams, c.Select
	if p.NumInputs == 0 {
		p.NumInputs = 1
	}
	if p.SamplesPerInput == 0 {
		p.SamplesPerInput = 1
	}
	if err := p.Validate(nil); err != nil {
		return FlagError(err)
	}
	if c.Generator == "" || c.Inputs == "" {
		return nil // the copy of a folder runs no network; translate names what is missing
	}
	p.NumInputs = c.NumInputs
	return FlagError(CheckInputs(c.Inputs, p, avail))
}

// CheckSize bounds a resize flag other than the protocol's --size (lpips
// --real-size, distance --size) like the protocol's size.
func CheckSize(flag string, v int) error {
	least, most, _ := Bounds("size")
	if v < least || v > most {
		return fmt.Errorf("--%s must be between %d and %d, got %d (the pixel budget is %d x %d per image)",
			flag, least, most, v, MaxSize, MaxSize)
	}
	return nil
}

// FlagError names the flag of a *FieldError (num_inputs is
// --num-inputs); other errors, and nil, are returned as they are.
func FlagError(err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("--%s %s", flagName(fe.Field), fe.Rule)
	}
	return err
}

// flagName is the flag of a protocol key: the key with dashes, except
// NDB's, whose flags are ndb.py's names (--bins, --alpha, --whiten).
func flagName(key string) string {
	if f, ok := strings.CutPrefix(key, "ndb_"); ok {
		return f
	}
	return strings.ReplaceAll(key, "_", "-")
}

// ClassNames splits a --classes list (nil when empty: the classes are
// then named class0..class{C-1}).
func ClassNames(list string) []string { return model.SplitNames(list) }
