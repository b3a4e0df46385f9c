package inception

import (
	"context"
	"fmt"

	"github.com/munit-eval/munit-eval/batch"
	"github.com/munit-eval/munit-eval/translate"
)

// StoreOutputs classifies the first m inputs x k samples of a store,
// verified against its manifest, indexed [input][sample] (the engine in
// package evaluate reads stores through the same batch.StoreItems).
func StoreOutputs(ctx context.Context, r *Runner, st *translate.Store, m, k int) ([][]Output, error) {
	if st.SamplesPerInput() < k || st.NumInputs() < m {
		return nil, fmt.Errorf("%s holds %d inputs x %d samples, %d x %d needed", st.Dir(), st.NumInputs(), st.SamplesPerInput(), m, k)
	}
	flat, err := r.RunItems(ctx, batch.StoreItems(st, m, k))
	if err != nil {
		return nil, err
	}
	out := make([][]Output, m)
	for i := range out {
		out[i] = flat[i*k : (i+1)*k]
	}
	return out, nil
}
