package model_test

import (
	"testing"

	"github.com/munit-eval/munit-eval/model"
)

func TestCheckStyleEncoder(t *testing.T) {
	img := model.TensorInfo{Name: "image", Shape: []int64{-1, 3, -1, -1}, Type: "float32"}
	dom := func(d int64) model.TensorInfo {
		return model.TensorInfo{Name: "domain", Shape: []int64{-1, d}, Type: "float32"}
	}
	style := func(s int64) model.TensorInfo {
		return model.TensorInfo{Name: "style", Shape: []int64{-1, s}, Type: "float32"}
	}
	info := func(ins []model.TensorInfo, out model.TensorInfo, meta map[string]string) *model.Info {
		m := map[string]string{model.MetaRole: "style_encoder"}
		for k, v := range meta {
			m[k] = v
		}
		return &model.Info{Inputs: ins, Outputs: []model.TensorInfo{out}, Metadata: m, ImageInput: "image"}
	}
	for _, c := range []struct {
		name string
		info *model.Info
		want string // "" = fits
	}{
		{"MUNIT", info([]model.TensorInfo{img}, style(8), map[string]string{model.MetaLatentDim: "8"}), ""},
		{"StarGAN v2", info([]model.TensorInfo{img, dom(3)}, style(64), map[string]string{model.MetaDomains: "cat,dog,wild"}), ""},
		{"domain count", info([]model.TensorInfo{img, dom(2)}, style(64), map[string]string{model.MetaDomains: "cat,dog,wild"}), "names 3 domains but input \"domain\" has 2"},
		{"unnamed domains", info([]model.TensorInfo{img, dom(2)}, style(64), nil), "no munit_eval.domains metadata"},
		{"names without input", info([]model.TensorInfo{img}, style(64), map[string]string{model.MetaDomains: "a,b"}), `there is no "domain" input`},
		{"style size", info([]model.TensorInfo{img}, style(8), map[string]string{model.MetaLatentDim: "16"}), "latent_dim=16 but output \"style\" has 8"},
		{"4-D style", info([]model.TensorInfo{img}, model.TensorInfo{Name: "style", Shape: []int64{-1, 8, 1, 1}, Type: "float32"}, nil), "want [N,S]"},
		{"extra input", info([]model.TensorInfo{img, {Name: "z", Shape: []int64{-1, 4}, Type: "float32"}}, style(8), nil), `unexpected input "z"`},
	} {
		p := model.Check(c.info, model.RoleStyleEncoder)
		if c.want == "" && len(p) != 0 {
			t.Errorf("%s: problems %v, want none", c.name, p)
		}
		if c.want != "" && !containsAny(p, c.want) {
			t.Errorf("%s: problems %v, want one containing %q", c.name, p, c.want)
		}
	}
	if d := model.Domains(&model.Info{Metadata: map[string]string{model.MetaDomains: " cat, dog "}}); len(d) != 2 || d[0] != "cat" || d[1] != "dog" {
		t.Errorf("Domains %q", d)
	}
}

func TestCheckMapping(t *testing.T) {
	lat := model.TensorInfo{Name: "latent", Shape: []int64{-1, 16}, Type: "float32"}
	dom := model.TensorInfo{Name: "domain", Shape: []int64{-1, 3}, Type: "float32"}
	style := model.TensorInfo{Name: "style", Shape: []int64{-1, 64}, Type: "float32"}
	meta := map[string]string{model.MetaRole: "mapping", model.MetaDomains: "cat,dog,wild", model.MetaLatentDim: "16"}
	ok := &model.Info{Inputs: []model.TensorInfo{lat, dom}, Outputs: []model.TensorInfo{style}, Metadata: meta, LatentInput: "latent"}
	if p := model.Check(ok, model.RoleMapping); len(p) != 0 {
		t.Fatalf("StarGAN v2 mapping: problems %v", p)
	}
	noLatent := &model.Info{Inputs: []model.TensorInfo{dom}, Outputs: []model.TensorInfo{style}, Metadata: meta}
	if p := model.Check(noLatent, model.RoleMapping); !containsAny(p, "no style input") {
		t.Fatalf("mapping without latent: problems %v", p)
	}
}
