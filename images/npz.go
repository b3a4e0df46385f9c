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

// Array64 is an n-dimensional float64 array in C (row-major) order: a
// numpy '<f8' array kept at full precision ('<f4' arrays are widened
// exactly). len(Data) is the product of Shape.
type Array64 struct {
	Shape []int
	Data  []float64
}

// maxNPZMember bounds one member of a .npz archive (uncompressed), so that
// a hostile archive cannot make the reader allocate without limit: 2 GiB
// holds a float64 covariance of 16,000 dimensions.
const maxNPZMember = 1 << 31

// ReadNPZ reads a numpy .npz archive (np.savez or np.savez_compressed: a
// zip of .npy files) and returns its float arrays by name, the ".npy"
// suffix dropped (np.savez(f, mu=..., sigma=...) gives "mu" and "sigma").
// Every member must be a C-order little-endian float32 or float64 .npy
// array (see ReadNPY); anything else is an error naming the file and the
// member.
func ReadNPZ(path string) (map[string]*Array64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	return ParseNPZ(path, b)
}

// ParseNPZ parses the bytes of a .npz archive as ReadNPZ does; path is
// used in error messages only.
func ParseNPZ(path string, b []byte) (map[string]*Array64, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("images: %s: not a .npz archive: %w", path, err)
	}
	out := map[string]*Array64{}
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		if f.UncompressedSize64 > maxNPZMember {
			return nil, fmt.Errorf("images: %s: member %s is %d bytes, more than %d", path, f.Name, f.UncompressedSize64, maxNPZMember)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("images: %s: member %s: %w", path, f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxNPZMember+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("images: %s: member %s: %w", path, f.Name, err)
		}
		a, err := parseNPY64(data)
		if err != nil {
			return nil, fmt.Errorf("images: %s: member %s: %w", path, f.Name, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("images: %s: member %s appears twice", path, f.Name)
		}
		out[name] = a
	}
	return out, nil
}

// parseNPY64 parses a float32 or float64 .npy file into float64 values
// (float64 ones exactly).
func parseNPY64(b []byte) (*Array64, error) {
	a, err := parseNPY(b)
	if err != nil {
		return nil, err
	}
	return &Array64{Shape: a.Shape, Data: a.Float64()}, nil
}

// encodeNPY64 writes a as a little-endian float64 ('<f8') .npy file with
// np.save's header.
func encodeNPY64(w io.Writer, a *Array64) error {
	n, err := numel(a.Shape, math.MaxInt/8)
	if err != nil {
		return err
	}
	if n != len(a.Data) {
		return fmt.Errorf("shape %v holds %d values, data has %d", a.Shape, n, len(a.Data))
	}
	buf := make([]byte, 8*len(a.Data))
	for i, v := range a.Data {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
	}
	if _, err := w.Write(npyHeaderBytes("<f8", a.Shape)); err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// WriteNPZ writes arrays to path as np.savez does (an uncompressed zip
// with one float64 NAME.npy member per array, in name order), atomically.
// numpy's np.load reads it back; ReadNPZ returns the same values.
func WriteNPZ(path string, arrays map[string]*Array64) error {
	names := make([]string, 0, len(arrays))
	for name, a := range arrays {
		if a == nil || name == "" || strings.ContainsAny(name, "/\\") {
			return fmt.Errorf("images: writing %s: bad array name %q or nil array", path, name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	err := atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for _, name := range names {
			f, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
			if err != nil {
				return err
			}
			if err := encodeNPY64(f, arrays[name]); err != nil {
				return fmt.Errorf("array %s: %w", name, err)
			}
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("images: writing %s: %w", path, err)
	}
	return nil
}
