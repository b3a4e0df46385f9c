package gate

import (
	"bytes"
	"io"
	"testing"

	"github.com/munit-eval/munit-eval/results"
)

// FuzzCompare feeds arbitrary pairs of results documents through the whole
// gate: parsing, comparability, every test, the correction and both
// outputs must return errors, never panic.
func FuzzCompare(f *testing.F) {
	for _, p := range goldenSet().Pairs {
		b, _ := results.Marshal(p.Base.Doc)
		n, _ := results.Marshal(p.New.Doc)
		f.Add(b, n)
	}
	f.Add([]byte(`{"schema":"munit-eval/results/v1","method":"M","protocol":{"seed":0},"versions":{"munit_eval":""},"metrics":{"kid":{"mean":1,"std":0,"subset_size":-3,"values":[1]},"preference":{"A":{"percent":5,"wilson":[0,0],"bootstrap":[0,0],"judgments":-1,"preferred":7,"workers":0,"excluded_workers":0}}}}`),
		[]byte(`{"schema":"munit-eval/results/v1","method":"M","protocol":{"seed":1},"versions":{"munit_eval":""},"metrics":{"is":1e308,"is_bootstrap":[1e308,-1e308],"lpips_diversity":{"mean":0,"std":0,"stderr":0,"ci95":[1,0],"n":0,"num_inputs":0,"pairs_per_input":0,"pairing":"","lpips_net":"","lpips_version":"","pairs":[{"input":-5,"a":0,"b":0,"distance":1e308}]}}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		base, err := results.Parse("base.json", a)
		if err != nil {
			return
		}
		new, err := results.Parse("new.json", b)
		if err != nil {
			return
		}
		r, err := Check(&Set{Pairs: []Pair{{Doc{"base.json", base}, Doc{"new.json", new}}}}, DefaultOptions())
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteTable(&buf, r); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(io.Discard, r); err != nil {
			t.Fatal(err)
		}
	})
}
