package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/synth"
)

// TestImageFolderBadInput: folders that cannot be read as image datasets
// give exit 2 and one line naming the file, for every command that reads one.
func TestImageFolderBadInput(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	gen := writeGenerator(t, dir, 3)
	models, err := synth.BuildModels(filepath.Join(dir, "models"), 1)
	if err != nil {
		t.Fatal(err)
	}
	lp := models[synth.KeyLPIPS]
	good := images.New(4, 4)
	mk := func(name string, files map[string][]byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(p, 0o755)
		for f, b := range files {
			os.WriteFile(filepath.Join(p, f), b, 0o644)
		}
		return p
	}
	okPNG := filepath.Join(dir, "ok.png")
	if err := images.WritePNG(okPNG, good); err != nil {
		t.Fatal(err)
	}
	png, _ := os.ReadFile(okPNG)
	cases := []struct {
		name   string
		folder string
		want   []string
	}{
		{"only non-image files", mk("txt", map[string][]byte{"notes.txt": []byte("hi")}), []string{"notes.txt"}},
		{"empty folder", mk("empty", nil), []string{"empty"}},
		{"corrupt PNG", mk("corrupt", map[string][]byte{"a.png": png, "b.png": png[:len(png)/2]}), []string{"b.png"}},
		{"missing folder", filepath.Join(dir, "nowhere"), []string{"nowhere"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantBadInput(t, cli(t, "translate", "--generator", gen, "--inputs", c.folder, "--out", filepath.Join(dir, "store-"+c.name)), c.want...)
			wantBadInput(t, cli(t, "lpips", "--lpips", lp, "--real", c.folder), c.want...)
		})
	}
}

// TestMetricCommandsRejectWrongModels: a model of another role is refused
// with its contract problem, before any work.
func TestMetricCommandsRejectWrongModels(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	gen := writeGenerator(t, dir, 3)
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	images.WritePNG(filepath.Join(in, "a.png"), images.New(4, 4))
	wantBadInput(t, cli(t, "lpips", "--lpips", gen, "--real", in), gen, "lpips")
	wantBadInput(t, cli(t, "distance", "--lpips", gen, filepath.Join(in, "a.png"), filepath.Join(in, "a.png")), gen)
	wantBadInput(t, cli(t, "cis", "--classifier", gen, "--generator", gen, "--inputs", in, "--store", filepath.Join(dir, "s")), gen, "classifier")
	wantBadInput(t, cli(t, "lpips", "--lpips", gen), "give --generator")
	wantBadInput(t, cli(t, "lpips", "--lpips", gen, "--generator", gen), "--inputs")
	wantBadInput(t, cli(t, "lpips", "--lpips", gen, "--real", in, "--pairing", "random"), "pairing")
	wantBadInput(t, cli(t, "run", filepath.Join(dir, "missing.yaml")), "missing.yaml")
}

// TestLPIPSSmallImages: images too small for the LPIPS trunk are refused
// with a message, never handed to onnxruntime (which can crash on them).
func TestLPIPSSmallImages(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	models, err := synth.BuildModels(filepath.Join(dir, "models"), 1)
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.png")
	images.WritePNG(a, images.New(64, 64))
	for _, size := range []string{"8", "16", "31"} {
		wantBadInput(t, cli(t, "distance", "--lpips", models[synth.KeyLPIPS], "--size", size, a, a), "too small")
	}
	if r := cli(t, "distance", "--lpips", models[synth.KeyLPIPS], "--size", "32", a, a); r.code != 0 {
		t.Fatalf("32x32: exit %d: %s", r.code, r.stderr)
	}
}
