package evaluate

import (
	"bufio"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig reads JPEG headers
	_ "image/png"  // and PNG headers
	"os"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/translate"
)

// Threads bounds an onnxruntime thread count against the machine's cores:
// a negative count is an error, 0 (all cores) stays 0, and a count above
// cores is capped to cores with a warning (10,000 threads would start and
// never finish, deaf to SIGTERM).
func Threads(n, cores int) (int, string, error) {
	switch {
	case n < 0:
		return 0, "", fmt.Errorf("must be 0 (all cores) or a positive number, got %d", n)
	case cores > 0 && n > cores:
		return cores, fmt.Sprintf("--threads %d is more than the %d cores of this machine: using %d", n, cores, cores), nil
	}
	return n, "", nil
}

// BytesPerPixel is the memory a generator batch is estimated to take per
// pixel of its images: the decoded input (3 B) and its float32 tensor
// (12 B), the output tensor (12 B) and its PNG, and onnxruntime's
// activations, which depend on the network. Measured as the growth of the
// peak RSS of translate from 512 x 512 to 2048 x 2048 inputs at batch 1
// (one thread, a loaded 2-core machine): a one-op Tanh network 78 B per
// pixel, the synthetic MUNIT 211 B and CycleGAN 199 B (the synthetic
// MUNIT at batch 4: 200 B). Real generators have more channels and take
// more, so the estimate, that of a small convolutional generator, is
// nearer a floor than a ceiling.
const BytesPerPixel = 192

// BatchMemory estimates the bytes one generator batch of batch images of
// pixels pixels each takes: batch x pixels x BytesPerPixel.
func BatchMemory(batch int, pixels int64) int64 {
	return int64(batch) * pixels * BytesPerPixel
}

// AvailableMemory reads the memory available to a new process from
// /proc/meminfo (MemAvailable, else MemFree), in bytes. It returns 0 when
// the file cannot be read (not Linux): then no estimate is checked.
func AvailableMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	return parseMeminfo(bufio.NewScanner(f))
}

func parseMeminfo(sc *bufio.Scanner) int64 {
	var free int64
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "MemAvailable" && k != "MemFree") {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		if k == "MemAvailable" {
			return n
		}
		free = n
	}
	return free
}

// ParseMemory reads a memory size such as 512M, 8G, 1.5T or 4096 (bytes):
// a number with an optional K, M, G or T suffix (powers of 1024, an
// optional trailing B or iB).
func ParseMemory(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*mult > 1<<62 || v != v {
		return 0, fmt.Errorf("%q: want a size such as 512M, 8G or 1.5T", s)
	}
	return int64(v * mult), nil
}

// gib writes a byte count in GiB, or in the unit that shows it below
// 1 GiB (a small --memory once read "0.0 GiB more than 0.0 GiB").
func gib(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n == 1:
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// CheckMemory refuses a generator batch of batch images of pixels pixels
// each whose estimated memory (BatchMemory) exceeds avail bytes (0: no
// check), before any work, naming the batch that would fit.
func CheckMemory(batch int, pixels, avail int64) error {
	need := BatchMemory(batch, pixels)
	if avail <= 0 || pixels <= 0 || need <= avail {
		return nil
	}
	fit := avail / BatchMemory(1, pixels)
	hint := fmt.Sprintf("lower batch to %d", fit)
	if fit < 1 {
		hint = "resize the images (size)"
	}
	return fmt.Errorf("a batch of %d images of %s needs about %s, more than the %s of memory available (%s; --memory sets the figure)",
		batch, mpx(pixels), gib(need), gib(avail), hint)
}

// ImagePixels reads the headers of files (never their pixels, so a
// 100,000 x 100,000 PNG costs a few bytes) and returns the largest
// image's pixels as a network sees them: size x size when size > 0, else
// width x height, which must be within MaxImagePixels. Errors name the
// file.
func ImagePixels(files []images.File, size int) (int64, error) {
	var most int64
	for _, f := range files {
		w, h, err := imageSize(f.Path)
		if err != nil {
			return 0, err
		}
		px := int64(w) * int64(h)
		if size > 0 {
			px = int64(size) * int64(size)
		} else if px > MaxImagePixels {
			return 0, fmt.Errorf("%s is %d x %d (%s), above the pixel budget of %d x %d per image: resize the inputs with size (--size N)",
				f.Path, w, h, mpx(px), MaxSize, MaxSize)
		}
		most = max(most, px)
	}
	return most, nil
}

// imageSize reads an image's width and height from its header.
func imageSize(path string) (int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	c, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return 0, 0, fmt.Errorf("%s: reading the image header: %w", path, err)
	}
	return c.Width, c.Height, nil
}

// CheckInputs checks, from the images' headers and before any work, that
// the inputs of dir a generator will see fit the pixel budgets and the
// memory: the first NumInputs images (select first) or every image
// (select random), each within MaxImagePixels unless resized, a batch
// within MaxBatchPixels and within avail bytes (0: no memory check).
func CheckInputs(dir string, p Protocol, avail int64) error {
	files, err := images.ListDir(dir)
	if err != nil {
		return err
	}
	if p.Select != translate.SelectRandom && p.NumInputs > 0 && p.NumInputs < len(files) {
		files = files[:p.NumInputs]
	}
	px, err := ImagePixels(files, p.Size)
	if err != nil {
		return err
	}
	if err := CheckBatchPixels(p.Batch, px); err != nil {
		return err
	}
	return CheckMemory(p.Batch, px, avail)
}
