package amt

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/template"

	_ "embed"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/internal/atomicfile"
)

//go:embed hit.html.tmpl
var hitTemplateText string

var hitTemplate = template.Must(template.New("hit").Parse(hitTemplateText))

// Write renders every image of the design and writes the batch (see Make)
// into a temporary folder beside the design's output folder, then moves it
// into place; on any failure the temporary folder is removed and the output
// folder is left as it was. It returns the complete key.
func (d *Design) Write(ctx context.Context) (*Key, error) {
	cfg := d.cfg
	if err := checkOut(cfg.Out, cfg.Force); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(cfg.Out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(cfg.Out))+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	if err := os.Mkdir(filepath.Join(tmp, ImagesDir), 0o755); err != nil {
		return nil, fmt.Errorf("amt: %w", err)
	}
	key := d.Key
	key.Images = map[string]ImageInfo{}
	key.HITs = nil
	if err := writeImages(ctx, cfg.Jobs, tmp, d.secret, d.srcs, d.labels); err != nil {
		return nil, err
	}
	for _, s := range d.srcs {
		if prev, dup := key.Images[s.name]; dup {
			return nil, fmt.Errorf("amt: internal error: images %s and %s got the same name %s", prev.Source, s.path, s.name)
		}
		key.Images[s.name] = s.info
	}
	for h := range d.slots {
		row := make([]string, 0, len(key.Variables))
		for _, sl := range d.slots[h] {
			for _, s := range sl {
				row = append(row, imageURL(cfg.BaseURL, s.name))
			}
		}
		key.HITs = append(key.HITs, row)
	}
	if err := key.validate(); err != nil {
		return nil, fmt.Errorf("amt: internal error, invalid key: %w", err)
	}
	if err := writeBatchFiles(tmp, key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := moveBatch(tmp, cfg.Out, cfg.Force); err != nil {
		return nil, err
	}
	done = true
	return key, nil
}

// deriveSecret derives the 32-byte image-naming secret from the seed:
// SHA-256("munit-eval/amt secret" || seed as 8 little-endian bytes).
func deriveSecret(seed int64) []byte {
	h := sha256.New()
	h.Write([]byte("munit-eval/amt secret"))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	return h.Sum(nil)
}

// imageName is hex(HMAC-SHA256(secret, label || 0 || sha256(png)))[:32] + ".png".
func imageName(secret []byte, label string, png []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{0})
	sum := sha256.Sum256(png)
	m.Write(sum[:])
	return hex.EncodeToString(m.Sum(nil))[:32] + ".png"
}

// imageURL is the URL of image name under base.
func imageURL(base, name string) string {
	if base == "" {
		return ImagesDir + "/" + name
	}
	return strings.TrimRight(base, "/") + "/" + name
}

// batchFiles are the entries of a batch folder that Make writes.
var batchFiles = []string{ImagesDir, KeyFile, BatchCSVFile, HITFile}

// checkOut refuses an output folder that is not empty unless force, and one
// holding local results (answers to the batch in it) even with force.
func checkOut(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return fmt.Errorf("amt: output %s is a file, not a folder", dir)
		}
		return fmt.Errorf("amt: %w", err)
	case len(ents) == 0:
		return nil
	case !force:
		return fmt.Errorf("amt: %s exists and is not empty (use --force to replace the batch in it)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, LocalResultsFile)); err == nil {
		return fmt.Errorf("amt: %s holds %s: refusing to replace a batch that has results", dir, LocalResultsFile)
	}
	return nil
}

// moveBatch moves the finished batch in tmp to dir: by one rename when dir
// does not exist or is empty; with force, by removing the previous batch's
// files from dir and renaming the new ones in (other files in dir stay).
func moveBatch(tmp, dir string, force bool) error {
	if err := checkOut(dir, force); err != nil {
		return err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) && !force {
		return fmt.Errorf("amt: %w", err)
	}
	if err := os.Rename(tmp, dir); err == nil {
		return nil
	}
	for _, f := range batchFiles {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("amt: removing the previous batch: %w", err)
		}
	}
	for _, f := range batchFiles {
		if err := os.Rename(filepath.Join(tmp, f), filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("amt: moving the batch into %s: %w", dir, err)
		}
	}
	return os.RemoveAll(tmp)
}

// writeImages renders every source (decode, resize or scramble, encode) in
// parallel, names it and writes it to the batch's images folder.
func writeImages(ctx context.Context, jobs int, out string, secret []byte, srcs []*source, labels map[*source]string) error {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	ch := make(chan *source)
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range ch {
				err := renderSource(out, secret, s, labels[s])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range srcs {
		if ctx.Err() != nil {
			break
		}
		ch <- s
	}
	close(ch)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// renderSource produces one image file of the batch.
func renderSource(out string, secret []byte, s *source, label string) error {
	m, err := images.Load(s.path)
	if err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	if s.size > 0 {
		m = images.ResizeCrop(m, s.size)
	}
	if s.info.Kind == KindScrambled {
		m = Scramble(m, ScrambleGrid, s.scram)
	}
	var buf bytes.Buffer
	if err := images.EncodePNG(&buf, m); err != nil {
		return fmt.Errorf("amt: encoding %s: %w", s.path, err)
	}
	s.name = imageName(secret, label, buf.Bytes())
	s.info.Source = s.path
	s.info.SHA256 = images.HashBytes(buf.Bytes())
	if err := atomicfile.Write(filepath.Join(out, ImagesDir, s.name), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	return nil
}

// writeBatchFiles writes batch.csv, hit.html and key.json.
func writeBatchFiles(dir string, key *Key) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(key.Variables)
	for _, row := range key.HITs {
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("amt: batch.csv: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, BatchCSVFile), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	html, err := HITHTML(key)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, HITFile), html, 0o644); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	b, err := json.MarshalIndent(key, "", " ")
	if err != nil {
		return fmt.Errorf("amt: encoding key: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(filepath.Join(dir, KeyFile), b, 0o600); err != nil {
		return fmt.Errorf("amt: %w", err)
	}
	return nil
}

// HITHTML renders the HIT layout of key: a crowd-form with one
// two-alternative forced choice per question, the input above the two
// outputs, images referenced through ${q<s>_input}, ${q<s>_left} and
// ${q<s>_right}, and answers in radio fields named q<s> with values "left" and
// "right". It names no method and no side's method. Images smaller than
// their 256-px box are enlarged with nearest-neighbour pixels.
func HITHTML(key *Key) ([]byte, error) {
	type slot struct {
		N                      int
		Field, In, Left, Right string
	}
	var data struct {
		Slots  []slot
		Total  int
		Onload string
	}
	data.Onload = "if (this.naturalWidth < this.width) this.classList.add('small')"
	for s := 1; s <= len(key.Fields); s++ {
		data.Slots = append(data.Slots, slot{N: s, Field: slotField(s), In: inputVar(s), Left: leftVar(s), Right: rightVar(s)})
	}
	data.Total = len(key.Fields)
	var buf bytes.Buffer
	if err := hitTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("amt: hit.html: %w", err)
	}
	return buf.Bytes(), nil
}
