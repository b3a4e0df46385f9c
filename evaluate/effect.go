package evaluate

// Which metrics each metric-specific setting can change, so that a metric
// command refuses a flag that was set but would change nothing it computes
// (prdc --kid-subsets 10 used to be accepted and ignored). The flags stay
// one table shared by every metric command (each flag has its YAML key);
// this check is what makes that table safe to share.

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/registry"
)

// affects maps a protocol key to the metrics whose values it can change;
// keys absent here (seed, size, batch, num_inputs, num_real, resize, ...)
// affect several metrics or how the samples and real images are read, and
// are never refused.
var affects = map[string][]string{
	"pairs":             {registry.KeyLPIPS},
	"pairing":           {registry.KeyLPIPS},
	"trials":            {registry.KeyLPIPS},
	"splits":            {registry.KeyIS},
	"contiguous_splits": {registry.KeyIS},
	"fid_interval":      {registry.KeyFID, registry.KeyFD, registry.KeySFID},
	"fid_bootstrap":     {registry.KeyFID, registry.KeyFD, registry.KeySFID},
	"kid_subsets":       {registry.KeyKID},
	"kid_subset_size":   {registry.KeyKID},
	"pr_k":              {registry.KeyPRDC},
	"dc_k":              {registry.KeyPRDC},
	"ndb_bins":          {registry.KeyNDB},
	"ndb_alpha":         {registry.KeyNDB},
	"ndb_whiten":        {registry.KeyNDB},
}

// statsMetrics are the metrics computed from published real statistics
// (registry.Entry.Stats: a pytorch-fid .npz holds mu and sigma, which
// serve FID, and FD with statistics of its features model; KID, PRDC, CMMD
// and sFID need the real images' features).
func statsMetrics() []string {
	var out []string
	for _, e := range registry.All() {
		if e.Stats {
			out = append(out, e.Key)
		}
	}
	return out
}

// checkEffect refuses a protocol flag that was set (p.Given) but changes
// none of the metrics keys, and --real-stats when none of them can use it
// or when named, the metric the command is named for, cannot.
func checkEffect(p Protocol, keys []string, realStats bool, named string) error {
	var given []string
	for k := range p.Given {
		if p.Given[k] && affects[k] != nil {
			given = append(given, k)
		}
	}
	sort.Strings(given)
	for _, k := range given {
		if !slices.ContainsFunc(affects[k], func(m string) bool { return slices.Contains(keys, m) }) {
			return fmt.Errorf("--%s changes only %s, and this command computes %s: leave it out (or add the metric with --metrics)",
				flagName(k), strings.Join(affects[k], ", "), strings.Join(keys, ", "))
		}
	}
	if !realStats {
		return nil
	}
	stats := statsMetrics()
	if named != "" && !slices.Contains(stats, named) {
		return fmt.Errorf("--real-stats cannot give %s: it needs the real images' features and a .npz holds only mu and sigma; give --real DIR (or use fid --real-stats for FID alone)", strings.ToUpper(named))
	}
	if !slices.ContainsFunc(stats, func(m string) bool { return slices.Contains(keys, m) }) {
		return fmt.Errorf("--real-stats serves FID and FD only, and this command computes %s: give --real DIR", strings.Join(keys, ", "))
	}
	return nil
}
