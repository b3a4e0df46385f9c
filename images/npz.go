package images

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
)

// Array64 is an n-dimensional float64 array in C order, as one entry of a
// numpy .npz archive: len(Data) is the product of Shape.
type Array64 struct {
	Shape []int
	Data  []float64
}

// maxNPZEntry bounds one decompressed .npz entry (4 GiB: a 16384-d
// covariance in float64 is 2 GiB), so a damaged or hostile archive cannot
// make the reader allocate without limit.
const maxNPZEntry = 4 << 30

// ReadNPZ reads a numpy .npz archive (np.savez or np.savez_compressed: a
// zip of NAME.npy entries, stored or deflated, zip64 included) and returns
// its arrays by NAME. Each entry must be a C-order little-endian float64 or
// float32 array (float32 values convert exactly). Errors name the file and
// the entry.
func ReadNPZ(path string) (map[string]*Array64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	return ParseNPZ(path, b)
}

// ParseNPZ parses the bytes of a .npz archive as ReadNPZ does; name is used
// in error messages only.
func ParseNPZ(name string, b []byte) (map[string]*Array64, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("images: %s: not a .npz archive: %w", name, err)
	}
	out := map[string]*Array64{}
	for _, f := range zr.File {
		key, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || key == "" {
			return nil, fmt.Errorf("images: %s: entry %q is not a .npy array", name, f.Name)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("images: %s: entry %q appears twice", name, f.Name)
		}
		if f.UncompressedSize64 > maxNPZEntry {
			return nil, fmt.Errorf("images: %s: entry %q is %d bytes, more than the %d this reader accepts", name, f.Name, f.UncompressedSize64, int64(maxNPZEntry))
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("images: %s: entry %q: %w", name, f.Name, err)
		}
		raw, err := io.ReadAll(io.LimitReader(rc, maxNPZEntry+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("images: %s: entry %q: %w", name, f.Name, err)
		}
		shape, size, data, err := parseNPYRaw(raw)
		if err != nil {
			return nil, fmt.Errorf("images: %s: entry %q: %w", name, f.Name, err)
		}
		a := &Array64{Shape: shape, Data: make([]float64, len(data)/size)}
		if size == 8 {
			for i := range a.Data {
				a.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			}
		} else {
			for i := range a.Data {
				a.Data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
			}
		}
		out[key] = a
	}
	return out, nil
}

// EncodeNPZ writes arrays as np.savez_compressed does: a zip archive with
// one deflated entry NAME.npy per array (float64 '<f8', C order, numpy's
// .npy header), in sorted name order so the bytes are deterministic.
func EncodeNPZ(w io.Writer, arrays map[string]*Array64) error {
	names := make([]string, 0, len(arrays))
	for k := range arrays {
		if k == "" || strings.ContainsAny(k, "/\\") {
			return fmt.Errorf("images: encoding .npz: bad array name %q", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	zw := zip.NewWriter(w)
	for _, k := range names {
		a := arrays[k]
		if a == nil {
			return fmt.Errorf("images: encoding .npz: array %q is nil", k)
		}
		n, err := numel(a.Shape, math.MaxInt/8)
		if err != nil {
			return fmt.Errorf("images: encoding .npz: array %q: %w", k, err)
		}
		if n != len(a.Data) {
			return fmt.Errorf("images: encoding .npz: array %q: shape %v holds %d values, data has %d", k, a.Shape, n, len(a.Data))
		}
		// No modification time: the archive is byte-identical across runs.
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: zip.Deflate})
		if err != nil {
			return fmt.Errorf("images: encoding .npz: %w", err)
		}
		if _, err := fw.Write(npyHeaderBytes("<f8", a.Shape)); err != nil {
			return fmt.Errorf("images: encoding .npz: %w", err)
		}
		buf := make([]byte, 8*len(a.Data))
		for i, v := range a.Data {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		if _, err := fw.Write(buf); err != nil {
			return fmt.Errorf("images: encoding .npz: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("images: encoding .npz: %w", err)
	}
	return nil
}

// WriteNPZ writes arrays to path as EncodeNPZ does, atomically (temp file
// + rename).
func WriteNPZ(path string, arrays map[string]*Array64) error {
	if err := atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error { return EncodeNPZ(w, arrays) }); err != nil {
		return fmt.Errorf("images: %w", err)
	}
	return nil
}

// Stats are the Gaussian statistics of a feature set in pytorch-fid's
// .npz format (fid_score.py, save_fid_stats / np.savez_compressed(path,
// mu=mu, sigma=sigma)): Mu [D] the mean and Sigma [D, D] the covariance,
// row-major (Sigma[i·D + j]).
type Stats struct {
	Mu    []float64
	Sigma []float64
}

// Dim is the feature dimension D.
func (s *Stats) Dim() int { return len(s.Mu) }

// ReadStats reads pytorch-fid statistics: the .npz entries "mu" (1-D, D)
// and "sigma" (2-D, D x D), float64 (or float32); other entries are
// ignored, as pytorch-fid ignores them. Missing entries, mismatched shapes
// and non-finite values are errors naming the file.
func ReadStats(path string) (*Stats, error) {
	arrays, err := ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	mu, sigma := arrays["mu"], arrays["sigma"]
	switch {
	case mu == nil || sigma == nil:
		keys := make([]string, 0, len(arrays))
		for k := range arrays {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("images: %s: FID statistics need arrays mu and sigma, the archive has %v", path, keys)
	case len(mu.Shape) != 1 || mu.Shape[0] == 0:
		return nil, fmt.Errorf("images: %s: mu has shape %v, want [D] with D > 0", path, mu.Shape)
	case len(sigma.Shape) != 2 || sigma.Shape[0] != mu.Shape[0] || sigma.Shape[1] != mu.Shape[0]:
		return nil, fmt.Errorf("images: %s: sigma has shape %v, want [%d %d] to match mu", path, sigma.Shape, mu.Shape[0], mu.Shape[0])
	}
	for name, a := range map[string]*Array64{"mu": mu, "sigma": sigma} {
		for i, v := range a.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("images: %s: %s has a non-finite value (%v) at flat index %d", path, name, v, i)
			}
		}
	}
	return &Stats{Mu: mu.Data, Sigma: sigma.Data}, nil
}

// WriteStats writes s to path in pytorch-fid's format (float64 mu [D] and
// sigma [D, D], deflated, as np.savez_compressed), atomically.
func WriteStats(path string, s *Stats) error {
	if s == nil || len(s.Mu) == 0 {
		return fmt.Errorf("images: writing %s: empty statistics", path)
	}
	d := len(s.Mu)
	if len(s.Sigma) != d*d {
		return fmt.Errorf("images: writing %s: sigma has %d values, want %d x %d", path, len(s.Sigma), d, d)
	}
	return WriteNPZ(path, map[string]*Array64{
		"mu":    {Shape: []int{d}, Data: s.Mu},
		"sigma": {Shape: []int{d, d}, Data: s.Sigma},
	})
}
