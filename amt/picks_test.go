package amt

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/munit-eval/munit-eval/translate"
)

// TestPicks: the samples Picks names, from the manifests alone, are
// exactly those whose pixels a written batch of the same configuration
// shows (its answer key's sample and scrambled images), so a run that
// keeps only them (--keep-samples grid) can still make that batch.
func TestPicks(t *testing.T) {
	root := t.TempDir()
	_, methods := writeStores(t, root, 6, append([]fakeMethod{{"MUNIT", 3}}, baselines3...))
	cfg := smallConfig()
	cfg.Methods, cfg.Out = methods, filepath.Join(root, "batch")
	key, err := Make(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, im := range key.Images {
		if im.Kind == KindSample || im.Kind == KindScrambled {
			shown[fmt.Sprintf("%s/%s/%d", im.Method, im.Input, im.K)] = true
		}
	}
	var stores []*translate.Store
	for _, m := range methods {
		s, err := translate.OpenStore(m.Store)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	picks, err := Picks(cfg, stores)
	if err != nil {
		t.Fatal(err)
	}
	picked := map[string]bool{}
	for i, ps := range picks {
		for _, p := range ps {
			picked[fmt.Sprintf("%s/%s/%d", methods[i].Name, stores[i].Manifest().Inputs[p[0]].Stem, p[1])] = true
		}
	}
	if len(shown) == 0 || !maps.Equal(shown, picked) {
		t.Errorf("Picks names %v,\nthe batch shows %v", slices.Sorted(maps.Keys(picked)), slices.Sorted(maps.Keys(shown)))
	}
}
