package amt

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/munit-eval/munit-eval/images"
)

func smallConfig() MakeConfig {
	cfg := DefaultMakeConfig()
	cfg.Questions = 7
	cfg.PerHIT = 4
	cfg.Workers = 3
	cfg.Catch = 0.25
	cfg.Seed = 42
	cfg.BaseURL = "https://example.org/b1/"
	return cfg
}

var baselines3 = []fakeMethod{{"UNIT", 1}, {"CycleGAN*", 1}, {"BicycleGAN", 3}}

func TestMakeStructure(t *testing.T) {
	dir, key := testBatch(t, smallConfig(), baselines3...)
	// 3 baselines × 7 questions = 21 real, 3 per HIT -> 7 HITs of 4.
	if got, want := len(key.HITs), 7; got != want {
		t.Fatalf("HITs = %d, want %d", got, want)
	}
	if len(key.Questions) != 7*4 {
		t.Fatalf("questions = %d, want 28", len(key.Questions))
	}
	perBase := map[string]int{}
	catchPerHIT := map[int]int{}
	refLeft := 0
	for _, q := range key.Questions {
		if q.Catch {
			catchPerHIT[q.HIT]++
			scr, ok := q.Left, true
			if *q.Correct == AnswerLeft {
				scr = q.Right
			}
			if scr != CatchMethod || !ok {
				t.Errorf("catch question %d: scrambled side is %s", q.ID, scr)
			}
			continue
		}
		if q.Correct != nil {
			t.Errorf("question %d: correct set on a real question", q.ID)
		}
		b := q.Left
		if b == "MUNIT" {
			b = q.Right
			refLeft++
		}
		perBase[b]++
	}
	for _, b := range baselines3 {
		if perBase[b.name] != 7 {
			t.Errorf("%s: %d questions, want 7", b.name, perBase[b.name])
		}
	}
	for h := range key.HITs {
		if catchPerHIT[h] != 1 {
			t.Errorf("HIT %d: %d catch questions, want 1", h, catchPerHIT[h])
		}
	}
	if refLeft == 0 || refLeft == 21 {
		t.Errorf("reference on the left in %d of 21 questions: sides are not random", refLeft)
	}

	// batch.csv: header = variables, one row per HIT, URLs under the base.
	f, err := os.Open(filepath.Join(dir, BatchCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(key.Variables, ",") || len(recs) != len(key.HITs)+1 {
		t.Fatalf("batch.csv header %v with %d rows", recs[0], len(recs)-1)
	}
	for h, row := range recs[1:] {
		for c, v := range row {
			if v != key.HITs[h][c] {
				t.Errorf("batch.csv row %d col %d = %q, key has %q", h, c, v, key.HITs[h][c])
			}
			name := strings.TrimPrefix(v, "https://example.org/b1/")
			if name == v {
				t.Errorf("value %q is not under the base URL", v)
			}
			if _, err := os.Stat(filepath.Join(dir, ImagesDir, name)); err != nil {
				t.Errorf("image of %q: %v", v, err)
			}
		}
	}
	// The key reads back and is private.
	k2, err := ReadKey(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(k2.Questions) != len(key.Questions) {
		t.Errorf("key round trip: %d questions", len(k2.Questions))
	}
	if st, _ := os.Stat(filepath.Join(dir, KeyFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("key.json mode %v, want 0600", st.Mode().Perm())
	}
	// Stochastic BicycleGAN questions use more than one sample index.
	ks := map[int]bool{}
	for _, info := range key.Images {
		if info.Method == "BicycleGAN" {
			ks[info.K] = true
		}
	}
	if len(ks) < 2 {
		t.Errorf("BicycleGAN sample indices %v: want random k", ks)
	}
}

// TestMakeOpaque checks that nothing a worker sees reveals a method or which
// side is the reference: names, URLs, batch.csv, hit.html and the PNG files.
func TestMakeOpaque(t *testing.T) {
	dir, key := testBatch(t, smallConfig(), baselines3...)
	nameRE := regexp.MustCompile(`^[0-9a-f]{32}\.png$`)
	var public bytes.Buffer
	for _, f := range []string{BatchCSVFile, HITFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		public.Write(b)
	}
	ents, err := os.ReadDir(filepath.Join(dir, ImagesDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(key.Images) {
		t.Errorf("%d files in images/, key lists %d", len(ents), len(key.Images))
	}
	for _, e := range ents {
		if !nameRE.MatchString(e.Name()) {
			t.Errorf("image name %q is not 32 hex digits", e.Name())
		}
		public.WriteString(e.Name() + "\n")
		b, _ := os.ReadFile(filepath.Join(dir, ImagesDir, e.Name()))
		for _, chunk := range []string{"tEXt", "iTXt", "zTXt"} {
			if bytes.Contains(b, []byte(chunk)) {
				t.Errorf("%s carries a %s chunk", e.Name(), chunk)
			}
		}
	}
	lower := strings.ToLower(public.String())
	for _, word := range []string{"munit", "unit", "cyclegan", "bicyclegan", "catch", "scrambl", "reference", "baseline", "key.json", "in00", "method"} {
		if strings.Contains(lower, word) {
			t.Errorf("public files contain %q", word)
		}
	}
	// No output image is used twice (a recurring image would betray the
	// reference, which is in every comparison).
	seen := map[string]int{}
	for h, row := range key.HITs {
		for c, v := range row {
			if strings.HasSuffix(key.Variables[c], "_input") {
				continue
			}
			if prev, dup := seen[v]; dup {
				t.Errorf("output %s used in HIT %d and HIT %d", v, prev, h)
			}
			seen[v] = h
		}
	}
	// The layout: crowd-form, one radio pair per question, input above outputs.
	html, _ := os.ReadFile(filepath.Join(dir, HITFile))
	s := string(html)
	if !strings.Contains(s, "<crowd-form") || !strings.Contains(s, "crowd-html-elements.js") {
		t.Error("hit.html is not a crowd-form layout")
	}
	// Small images are enlarged with nearest-neighbour pixels, not blurred.
	if n, m := strings.Count(s, "<img "), strings.Count(s, `<img onload="if (this.naturalWidth < this.width) this.classList.add('small')"`); n != 3*len(key.Fields) || m != n {
		t.Errorf("hit.html: %d images, %d of them marked small when upscaled; want %d", n, m, 3*len(key.Fields))
	}
	if !strings.Contains(s, "img.small { image-rendering: pixelated; }") {
		t.Error("hit.html: no nearest-neighbour rule for small images")
	}
	for i, f := range key.Fields {
		n := inputVar(i + 1)
		in, l, r := strings.Index(s, "${"+n+"}"), strings.Index(s, "${"+leftVar(i+1)+"}"), strings.Index(s, "${"+rightVar(i+1)+"}")
		if in < 0 || l < in || r < l {
			t.Errorf("question %s: input at %d, left at %d, right at %d", f, in, l, r)
		}
		for _, v := range []string{AnswerLeft, AnswerRight} {
			if !strings.Contains(s, `name="`+f+`" value="`+v+`"`) {
				t.Errorf("no %s radio for field %s", v, f)
			}
		}
	}
	if strings.Count(s, `type="radio"`) != 2*len(key.Fields) {
		t.Errorf("%d radios, want %d", strings.Count(s, `type="radio"`), 2*len(key.Fields))
	}
}

func TestMakeDeterministic(t *testing.T) {
	root := t.TempDir()
	_, methods := writeStores(t, root, 5, []fakeMethod{{"MUNIT", 2}, {"UNIT", 1}})
	run := func(out string, seed int64) *Key {
		cfg := smallConfig()
		cfg.Methods, cfg.Out, cfg.Seed = methods, filepath.Join(root, out), seed
		k, err := Make(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	run("a", 1)
	run("b", 1)
	run("c", 2)
	for _, f := range []string{KeyFile, BatchCSVFile, HITFile} {
		a, _ := os.ReadFile(filepath.Join(root, "a", f))
		b, _ := os.ReadFile(filepath.Join(root, "b", f))
		c, _ := os.ReadFile(filepath.Join(root, "c", f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
		if f != HITFile && bytes.Equal(a, c) {
			t.Errorf("%s is the same for seeds 1 and 2", f)
		}
	}
}

func TestScramble(t *testing.T) {
	for _, tc := range []struct{ w, h, grid int }{{16, 16, 8}, {19, 13, 4}, {64, 32, 8}, {3, 3, 8}} {
		m := pattern(tc.w, tc.h, 1, 2, 3)
		s := Scramble(m, tc.grid, 7)
		if bytes.Equal(s.Pix, m.Pix) {
			t.Errorf("%dx%d: scrambled image equals the original", tc.w, tc.h)
		}
		// The same pixel values, rearranged (except for the tiny inverted case).
		if tc.w >= 4 {
			a, b := pixels(m), pixels(s)
			if strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("%dx%d: scrambling changed the pixel values", tc.w, tc.h)
			}
		}
	}
	// No block stays in place on a 16x16 image with 8x8 blocks of 2 px.
	m := pattern(16, 16, 0, 0, 0)
	s := Scramble(m, 8, 11)
	for by := 0; by < 8; by++ {
		for bx := 0; bx < 8; bx++ {
			o := 3 * (2*by*16 + 2*bx)
			if bytes.Equal(s.Pix[o:o+6], m.Pix[o:o+6]) && bytes.Equal(s.Pix[o+48:o+54], m.Pix[o+48:o+54]) {
				t.Errorf("block (%d,%d) stayed in place", bx, by)
			}
		}
	}
}

func pixels(m *images.Image) []string {
	var out []string
	for i := 0; i < len(m.Pix); i += 3 {
		out = append(out, string(m.Pix[i:i+3]))
	}
	sort.Strings(out)
	return out
}

func TestMakeBadConfig(t *testing.T) {
	root := t.TempDir()
	_, methods := writeStores(t, root, 2, []fakeMethod{{"MUNIT", 1}, {"UNIT", 1}})
	nonEmpty := filepath.Join(root, "full")
	os.MkdirAll(nonEmpty, 0o755)
	os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644)
	for _, tc := range []struct {
		name string
		edit func(*MakeConfig)
		want string
	}{
		{"no reference", func(c *MakeConfig) { c.Reference = "Nope" }, "not among the methods"},
		{"no baseline", func(c *MakeConfig) { c.Methods = c.Methods[:1] }, "no baseline"},
		{"catch reserved", func(c *MakeConfig) { c.Methods[1].Name = CatchMethod }, "reserved"},
		{"catch too big", func(c *MakeConfig) { c.Catch = 0.95 }, "no room"},
		{"catch negative", func(c *MakeConfig) { c.Catch = -0.1 }, "catch"},
		{"zero questions", func(c *MakeConfig) { c.Questions = 0 }, "questions"},
		// Refused before any store is read: it once ran for minutes at 1.7 GB.
		{"a million questions", func(c *MakeConfig) { c.Questions = 1000000 }, "want 1 to 100000"},
		// 2 inputs x 1 x 1 samples: 2 distinct comparisons.
		{"more questions than comparisons", func(c *MakeConfig) { c.Questions = 3 }, "only 2 distinct comparisons"},
		{"huge per-hit", func(c *MakeConfig) { c.PerHIT = 1 << 30 }, "per-hit"},
		{"huge workers", func(c *MakeConfig) { c.Workers = 1 << 30 }, "workers"},
		{"bad base url", func(c *MakeConfig) { c.BaseURL = `x"><script>` }, "base URL"},
		{"formula base url", func(c *MakeConfig) { c.BaseURL = `=HYPERLINK(1)` }, "base URL"},
		{"output not empty", func(c *MakeConfig) { c.Out = nonEmpty }, "not empty"},
		{"missing store", func(c *MakeConfig) { c.Methods[1].Store = filepath.Join(root, "nope") }, "UNIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Methods = append([]Method(nil), methods...)
			cfg.Out = filepath.Join(root, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			tc.edit(&cfg)
			_, err := Make(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestMakeNoCatchFillsLastHIT(t *testing.T) {
	cfg := smallConfig()
	cfg.Catch = 0
	cfg.Questions = 5 // 2 baselines × 5 = 10 real questions, 4 per HIT -> 3 HITs, 2 extra questions
	_, key := testBatch(t, cfg, fakeMethod{"UNIT", 1}, fakeMethod{"BicycleGAN", 2})
	if len(key.HITs) != 3 || len(key.Questions) != 12 {
		t.Fatalf("%d HITs, %d questions; want 3 and 12", len(key.HITs), len(key.Questions))
	}
	for _, q := range key.Questions {
		if q.Catch {
			t.Errorf("catch question %d with --catch 0", q.ID)
		}
	}
}

// TestMakeIdenticalInputs: two inputs with the same pixels (a dataset with a
// duplicate image) each get their own file; this failed with "two images got
// the same name (HMAC collision?)".
func TestMakeIdenticalInputs(t *testing.T) {
	root := t.TempDir()
	inDir, methods := writeStores(t, root, 3, []fakeMethod{{"MUNIT", 2}, {"UNIT", 2}})
	// in001 becomes a byte-identical copy of in000, in the stores' manifests too.
	b, err := os.ReadFile(filepath.Join(inDir, "in000.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inDir, "in001.png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := images.HashBytes(b)
	for _, m := range methods {
		p := filepath.Join(m.Store, "manifest.json")
		man, _ := os.ReadFile(p)
		var v map[string]any
		if err := json.Unmarshal(man, &v); err != nil {
			t.Fatal(err)
		}
		v["inputs"].([]any)[1].(map[string]any)["sha256"] = sum
		out, _ := json.Marshal(v)
		os.WriteFile(p, out, 0o644)
	}
	cfg := smallConfig()
	cfg.Questions = 12
	cfg.Methods = methods
	cfg.Out = filepath.Join(root, "batch")
	key, err := Make(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Make with byte-identical inputs: %v", err)
	}
	inputs := map[string]string{}
	for name, info := range key.Images {
		if info.Kind == KindInput {
			inputs[info.Input] = name
		}
	}
	if inputs["in000"] == "" || inputs["in001"] == "" || inputs["in000"] == inputs["in001"] {
		t.Errorf("input files %v: want one file per input", inputs)
	}
}

// TestMakeFailureLeavesNoPartialBatch: a sample that cannot be read makes Make
// fail without leaving anything in --out, so that the retry after the repair
// succeeds without --force (it was blocked by the partial batch).
func TestMakeFailureLeavesNoPartialBatch(t *testing.T) {
	root := t.TempDir()
	_, methods := writeStores(t, root, 4, []fakeMethod{{"MUNIT", 2}, {"UNIT", 2}})
	victim := filepath.Join(methods[1].Store, "in002", "1.png")
	good, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig()
	cfg.Questions = 16
	cfg.Methods = methods
	cfg.Out = filepath.Join(root, "batch")
	if _, err := Make(context.Background(), cfg); err == nil {
		t.Fatal("Make with a corrupt sample: no error")
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if e.Name() == "batch" || strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("failed Make left %s behind", e.Name())
		}
	}
	if err := os.WriteFile(victim, good, 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := Make(context.Background(), cfg)
	if err != nil {
		t.Fatalf("retry after the repair: %v", err)
	}
	if n, _ := os.ReadDir(filepath.Join(cfg.Out, ImagesDir)); len(n) != len(key.Images) {
		t.Errorf("%d image files for %d images in the key", len(n), len(key.Images))
	}
	// --force replaces the batch and keeps the folder's other files.
	os.WriteFile(filepath.Join(cfg.Out, "notes.txt"), []byte("mine"), 0o644)
	cfg.Force = true
	cfg.Seed++
	key2, err := Make(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Make --force: %v", err)
	}
	if n, _ := os.ReadDir(filepath.Join(cfg.Out, ImagesDir)); len(n) != len(key2.Images) {
		t.Errorf("after --force: %d image files for %d images in the key", len(n), len(key2.Images))
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, "notes.txt")); err != nil {
		t.Errorf("--force removed a file that is not part of the batch: %v", err)
	}
}

// TestDesignBatch: the design is computed from the manifests alone (no image
// is decoded, nothing is written) and says when samples recur.
func TestDesignBatch(t *testing.T) {
	root := t.TempDir()
	_, methods := writeStores(t, root, 3, []fakeMethod{{"MUNIT", 4}, {"UNIT", 1}, {"BicycleGAN", 4}})
	// Spoil every sample's pixels: the design must not read them.
	for _, m := range methods {
		files, _ := filepath.Glob(filepath.Join(m.Store, "*", "*.png"))
		for _, f := range files {
			os.WriteFile(f, []byte("not a png"), 0o644)
		}
	}
	cfg := smallConfig()
	cfg.Questions = 5 // UNIT: 3 inputs x 1 sample = 3 < 5; BicycleGAN: 12 samples
	cfg.Methods = methods
	cfg.Out = filepath.Join(root, "batch")
	d, err := DesignBatch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.Out); !os.IsNotExist(err) {
		t.Errorf("DesignBatch created %s", cfg.Out)
	}
	// The second: 1 catch question per HIT of 4 (TestCatchWarning).
	if len(d.Warnings) != 2 || !strings.Contains(d.Warnings[0], "UNIT: 5 questions drawn from 3 samples") || !strings.Contains(d.Warnings[1], "1 catch question(s) per HIT") {
		t.Errorf("warnings %q, want one about UNIT's 3 samples and one about the catch questions", d.Warnings)
	}
	real := map[string]int{}
	for _, q := range d.Key.Questions {
		if !q.Catch {
			if q.Left == "MUNIT" {
				real[q.Right]++
			} else {
				real[q.Left]++
			}
		}
	}
	if real["UNIT"] < 5 || real["BicycleGAN"] < 5 {
		t.Errorf("real questions per baseline %v, want at least 5 each", real)
	}
	// The same design as the one Make writes.
	_, methods2 := writeStores(t, filepath.Join(root, "again"), 3, []fakeMethod{{"MUNIT", 4}, {"UNIT", 1}, {"BicycleGAN", 4}})
	cfg.Methods = methods2
	cfg.Out = filepath.Join(root, "again", "batch")
	key, err := Make(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range key.Questions {
		if q != d.Key.Questions[i] && !(q.Catch && *q.Correct == *d.Key.Questions[i].Correct) {
			t.Fatalf("question %d: design %+v, written %+v", i, d.Key.Questions[i], q)
		}
	}
}

// TestCatchWarning: amt make says when its catch questions per HIT make
// the default 80% threshold all or nothing (fewer than 5), and what
// would tolerate a miss; 5 or more, or none, say nothing.
func TestCatchWarning(t *testing.T) {
	for _, tc := range []struct {
		c, perHIT int
		want      string
	}{
		{1, 10, "1 catch question(s) per HIT: a worker who answers one HIT meets amt analyze's 80% catch threshold only with all of them right"},
		{1, 10, "--catch 0.5 keeps a worker who misses one"},
		{2, 20, "--catch 0.25 keeps"},
		{1, 4, "a worker who misses one is kept from 5 catch questions on, so a HIT needs more than 5 questions (--per-hit)"},
		{5, 10, ""}, {6, 10, ""}, {0, 10, ""},
	} {
		got := catchWarning(tc.c, tc.perHIT)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%d of %d: %q, want %q", tc.c, tc.perHIT, got, tc.want)
		}
	}
}
