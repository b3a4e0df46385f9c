package pipeline

// --keep-samples: after a run (or a shard) has computed every per-sample
// value, it drops the sample files that no later command needs by default.

import (
	"context"
	"fmt"

	"github.com/munit-eval/munit-eval/amt"
	"github.com/munit-eval/munit-eval/evaluate"
	"github.com/munit-eval/munit-eval/reports"
	"github.com/munit-eval/munit-eval/translate"
)

// keepMode is the run's --keep-samples mode: the flag's, else the file's
// keep_samples, else translate.KeepAll.
func (c *Config) keepMode(o Options) string {
	if o.Keep != "" {
		return o.Keep
	}
	if c.KeepSamples != "" {
		return c.KeepSamples
	}
	return translate.KeepAll
}

// checkKeep refuses a mode that is no mode, and dropping files whose
// values no cache keeps.
func (c *Config) checkKeep(mode string) error {
	if _, err := translate.ParseKeep(mode); err != nil {
		return fmt.Errorf("%s: %w", c.file, err)
	}
	if mode != translate.KeepAll && c.Cache != nil && !*c.Cache {
		return fmt.Errorf("%s: keep_samples %s drops sample files once their values are in the store's caches, but cache is false: set cache: true, or keep every sample", c.file, mode)
	}
	return nil
}

// methodStore is one method folder a run wrote: where, and its method.
type methodStore struct {
	dataset, method, dir string
}

// runStores finds the method folders of the methods the run translated
// (not those read where they are: a samples: folder is never touched).
func (c *Config) runStores(ctx context.Context, pl evaluate.Plan) ([]methodStore, error) {
	var out []methodStore
	for _, d := range pl.Datasets {
		for _, src := range d.Methods {
			if src.Samples != "" {
				continue
			}
			check := src
			check.CheckOnly = true
			p := c.Protocol
			set, err := evaluate.Acquire(ctx, check, &p, p.SamplesNeeded(c.Entries()), pl.Run)
			if err != nil {
				return nil, fmt.Errorf("%s / %s: %w", d.Name, src.Method, err)
			}
			out = append(out, methodStore{dataset: d.Name, method: src.Method, dir: set.Name})
		}
	}
	return out, nil
}

// dropSamples removes, in each of the run's method folders, the files of
// the samples the mode does not keep, among the inputs shard owns (all of
// them unsharded). KeepGrid keeps exactly what the report's image grids
// (reports.GridSamples with the report's defaults) and amt make's default
// study of each dataset (amt.Picks with amt.DefaultMakeConfig, the
// dataset's methods in the file's order) show; KeepNone keeps no file.
// It prints one line per method on o.Log.
func (c *Config) dropSamples(ms []methodStore, mode string, shard translate.Shard, o Options) error {
	if mode == translate.KeepAll {
		return nil
	}
	for start := 0; start < len(ms); {
		end := start
		for end < len(ms) && ms[end].dataset == ms[start].dataset {
			end++
		}
		group := ms[start:end]
		start = end
		stores := make([]*translate.Store, len(group))
		for i, m := range group {
			var err error
			if shard.Sharded() {
				stores[i], err = translate.OpenShard(m.dir, shard)
			} else {
				stores[i], err = translate.OpenStore(m.dir)
			}
			if err != nil {
				return fmt.Errorf("%s / %s: keep_samples %s: %w", m.dataset, m.method, mode, err)
			}
		}
		keep := make([]map[[2]int]bool, len(group))
		for i := range keep {
			keep[i] = map[[2]int]bool{}
		}
		if mode == translate.KeepGrid {
			if err := gridKeeps(group, stores, keep); err != nil {
				return err
			}
		}
		for i, st := range stores {
			n, err := st.DropSamples(func(in, k int) bool { return keep[i][[2]int{in, k}] }, shard.Owns)
			if err != nil {
				return fmt.Errorf("%s / %s: %w", group[i].dataset, group[i].method, err)
			}
			if o.Log != nil {
				of := ""
				if shard.Sharded() {
					of = " of shard " + shard.String()
				}
				fmt.Fprintf(o.Log, "%s / %s: keep_samples %s: dropped %d sample files%s, %d kept in all\n",
					group[i].dataset, group[i].method, mode, n, of, len(keep[i]))
			}
		}
	}
	return nil
}

// gridKeeps adds to keep[i] the samples of stores[i] that the report's
// grid and amt make's default study show.
func gridKeeps(group []methodStore, stores []*translate.Store, keep []map[[2]int]bool) error {
	grid, err := reports.GridSamples(stores, reports.GridOptions{})
	if err != nil {
		return fmt.Errorf("%s: keep_samples grid: %w", group[0].dataset, err)
	}
	cfg := amt.DefaultMakeConfig()
	for _, m := range group {
		cfg.Methods = append(cfg.Methods, amt.Method{Name: m.method, Store: m.dir})
	}
	// amt make's default study needs its reference among the methods and
	// enough distinct comparisons; where it would refuse, it shows nothing.
	picks, err := amt.Picks(cfg, stores)
	if err != nil {
		picks = nil
	}
	for i := range stores {
		for _, s := range grid[i] {
			keep[i][s] = true
		}
		if picks != nil {
			for _, s := range picks[i] {
				keep[i][s] = true
			}
		}
	}
	return nil
}
