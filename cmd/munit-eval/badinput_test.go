package main

import (
	"bytes"
	binenc "encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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
			wantBadInput(t, cli(t, "lpips", "--lpips", lp, "--real", c.folder, "--store", filepath.Join(dir, "rstore-"+c.name)), c.want...)
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
	wantBadInput(t, cli(t, "lpips", "--lpips", gen, "--real", in, "--pairing", "shuffled"), "pairing")
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

// pngHeader is the start of a PNG of w x h: the signature and the IHDR
// chunk, no pixels. Its header says 8000 x 8000 in 33 bytes; anything
// that decodes it before checking its size fails, or takes gigabytes.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	data := make([]byte, 13)
	binenc.BigEndian.PutUint32(data[0:], w)
	binenc.BigEndian.PutUint32(data[4:], h)
	data[8], data[9] = 8, 2 // 8-bit RGB
	binenc.Write(&b, binenc.BigEndian, uint32(len(data)))
	chunk := append([]byte("IHDR"), data...)
	b.Write(chunk)
	binenc.Write(&b, binenc.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestHostileFlags is the hostile-input table of issue 20 for flag and
// YAML values: sizes past the pixel budget (--size 100000 crashed with
// an out-of-memory trace; --size 12000 on a 64 x 64 input grew to 24 GB),
// inputs whose header alone is too large, batches that would not fit the
// memory, thread counts negative or absurd, KID subsets of 0, more real
// images than exist, and the same values in an evaluation file. Each is
// refused before any work with one line naming the flag (or YAML line),
// exit 2, or, for threads above the cores, capped with a warning.
func TestHostileFlags(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	gen := writeGenerator(t, dir, 3)
	models, err := synth.BuildModels(filepath.Join(dir, "models"), 1)
	if err != nil {
		t.Fatal(err)
	}
	lp, cls := models[synth.KeyLPIPS], models[synth.KeyClassifier]
	mkdir := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in := mkdir("in")
	for _, n := range []string{"a.png", "b.png", "c.png"} {
		if err := images.WritePNG(filepath.Join(in, n), images.New(64, 64)); err != nil {
			t.Fatal(err)
		}
	}
	huge := mkdir("huge")
	if err := os.WriteFile(filepath.Join(huge, "big.png"), pngHeader(8000, 8000), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "store")
	tr := func(extra ...string) []string {
		return append([]string{"translate", "--generator", gen, "--inputs", in, "--out", store}, extra...)
	}
	yamlFile := func(name, protocol string) string {
		y := "out: out\nprotocol: {" + protocol + "}\nmetrics: [lpips]\nmodels: {lpips: " + lp +
			"}\ndatasets:\n  - name: d\n    inputs: " + in + "\n    real: " + in + "\n    methods:\n      - {name: Tiny, generator: " + gen + "}\nreport: false\n"
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hugeYAML := filepath.Join(dir, "huge.yaml")
	os.WriteFile(hugeYAML, []byte(strings.Replace(string(must(os.ReadFile(yamlFile("tmp", "num_inputs: 1")))), "inputs: "+in, "inputs: "+huge, 1)), 0o644)

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"translate --size 100000", tr("--size", "100000"), []string{"--size", "4096", "100000"}},
		{"translate --size 12000 on 64x64", tr("--size", "12000"), []string{"--size", "12000"}},
		{"translate --size at the budget, batch 16", tr("--size", "4096", "--batch", "16"), []string{"--batch", "lower batch to 4"}},
		{"translate --batch 1e6", tr("--batch", "1000000"), []string{"--batch", "1024"}},
		{"translate --streams 1e6", tr("--streams", "1000000"), []string{"--streams", "64"}},
		{"translate --streams -1", tr("--streams", "-1"), []string{"--streams must be at least 0"}},
		{"translate --samples-per-input 1e7", tr("--samples-per-input", "10000000"), []string{"--samples-per-input"}},
		{"translate 8000x8000 header", []string{"translate", "--generator", gen, "--inputs", huge, "--out", store}, []string{"big.png is 8000 x 8000", "--size"}},
		{"translate batch over --memory", tr("--memory", "1M"), []string{"needs about", "more than the", "lower batch to"}},
		{"bad --memory", tr("--memory", "lots"), []string{"--memory", "lots"}},
		{"--threads -1", tr("--threads", "-1"), []string{"--threads", "-1"}},
		{"lpips --size 100000", []string{"lpips", "--lpips", lp, "--generator", gen, "--inputs", in, "--size", "100000"}, []string{"lpips: --size must be at most 4096"}},
		{"lpips 8000x8000 header", []string{"lpips", "--lpips", lp, "--generator", gen, "--inputs", huge, "--store", store}, []string{"big.png is 8000 x 8000"}},
		{"lpips --real 8000x8000 header", []string{"lpips", "--lpips", lp, "--real", huge}, []string{"big.png is 8000 x 8000"}},
		{"lpips --real-size 100000", []string{"lpips", "--lpips", lp, "--real", in, "--real-size", "100000"}, []string{"--real-size", "4096"}},
		{"distance --size 100000", []string{"distance", "--lpips", lp, "--size", "100000", filepath.Join(in, "a.png"), filepath.Join(in, "b.png")}, []string{"--size", "4096"}},
		{"distance 8000x8000 header", []string{"distance", "--lpips", lp, filepath.Join(in, "a.png"), filepath.Join(huge, "big.png")}, []string{"big.png is 8000 x 8000"}},
		{"fid --kid-subsets 0", []string{"fid", "--classifier", cls, "--generator", gen, "--inputs", in, "--real", in, "--kid-subsets", "0"}, []string{"--kid-subsets must be at least 1"}},
		{"kid --num-real above the folder", []string{"kid", "--classifier", cls, "--generator", gen, "--inputs", in, "--real", in, "--num-real", "5", "--store", store}, []string{"holds 3 images, fewer than num_real 5"}},
		{"fid --num-real 1e12", []string{"fid", "--classifier", cls, "--generator", gen, "--inputs", in, "--real", in, "--num-real", "1000000000000"}, []string{"--num-real must be at most"}},
		{"run size 100000", []string{"run", yamlFile("size", "size: 100000")}, []string{"size.yaml", "size must be at most 4096"}},
		{"run batch 1e6", []string{"run", yamlFile("batch", "batch: 1000000")}, []string{"batch.yaml", "batch must be at most 1024"}},
		{"run kid_subsets 0", []string{"run", yamlFile("kid", "kid_subsets: 0")}, []string{"kid.yaml", "kid_subsets must be at least 1"}},
		{"run num_real above the folder", []string{"run", yamlFile("numreal", "num_real: 5")}, []string{"numreal.yaml", "line 8", "fewer than num_real 5"}},
		{"run 8000x8000 header", []string{"run", hugeYAML}, []string{"huge.yaml", "big.png is 8000 x 8000"}},
		{"run batch over --memory", []string{"--memory", "1M", "run", yamlFile("mem", "num_inputs: 1")}, []string{"mem.yaml", "needs about"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantBadInput(t, cli(t, append([]string{"-q"}, c.args...)...), c.want...)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Fatal("a refused run wrote its output folder")
	}

	// Threads above the cores are capped with a warning, and the work is
	// done (--threads 10000 used to start 10,000 threads and never end).
	t.Run("threads capped", func(t *testing.T) {
		r := cli(t, tr("-q", "--threads", "10000", "--json")...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want := "using " + strconv.Itoa(runtime.NumCPU())
		if !strings.Contains(r.stderr, "--threads 10000 is more than") || !strings.Contains(r.stderr, want) {
			t.Fatalf("stderr %q lacks the cap warning %q", r.stderr, want)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
