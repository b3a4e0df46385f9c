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
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
)

// Array64 is an n-dimensional float64 array in C (row-major) order: a
// numpy '<f8' array kept at full precision ('<f4' arrays are widened
// exactly). len(Data) is the product of Shape.
type Array64 struct {
	Shape []int
	Data  []float64
}

// maxNPZBytes bounds the uncompressed bytes read from a .npz archive, all
// members together, as they are inflated (the sizes its directory declares
// are not trusted): a small compressed archive can claim or inflate to
// gigabytes. 1 GiB holds a float64 covariance of 11,000 dimensions; FID
// features have 2,048.
const maxNPZBytes = 1 << 30

// npzBudget is maxNPZBytes, lowered by tests.
var npzBudget int64 = maxNPZBytes

// maxNPZString bounds a string member (metadata such as a resize mode).
const maxNPZString = 4096

// NPZ is what a .npz archive holds: float arrays, and strings (0-d numpy
// unicode arrays, np.str_ values), by member name without ".npy".
type NPZ struct {
	Arrays  map[string]*Array64
	Strings map[string]string
}

// ReadNPZ reads a numpy .npz archive (np.savez or np.savez_compressed: a
// zip of .npy files) and returns its float arrays by name, the ".npy"
// suffix dropped (np.savez(f, mu=..., sigma=...) gives "mu" and "sigma");
// string members (ReadNPZFile returns them) are left out. Every other
// member must be a C-order little-endian float32 or float64 .npy array
// (see ReadNPY); anything else is an error naming the file and the member.
func ReadNPZ(path string) (map[string]*Array64, error) {
	z, err := ReadNPZFile(path)
	if err != nil {
		return nil, err
	}
	return z.Arrays, nil
}

// ReadNPZFile reads a .npz archive as ReadNPZ does, with its string
// members. Only a regular file is read, and at most 1 GiB of inflated data
// (maxNPZBytes), so that neither a FIFO nor a zip bomb ends the process.
func ReadNPZFile(path string) (*NPZ, error) {
	// Look before opening: opening a FIFO waits for a writer.
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("images: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("images: %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("images: %s: not a regular file", path)
	}
	return parseNPZ(path, f, st.Size())
}

// ParseNPZ parses the bytes of a .npz archive as ReadNPZ does; path is
// used in error messages only.
func ParseNPZ(path string, b []byte) (map[string]*Array64, error) {
	z, err := parseNPZ(path, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	return z.Arrays, nil
}

func parseNPZ(path string, r io.ReaderAt, size int64) (*NPZ, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("images: %s: not a .npz archive: %w", path, err)
	}
	out := &NPZ{Arrays: map[string]*Array64{}, Strings: map[string]string{}}
	budget := npzBudget
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		if f.UncompressedSize64 > uint64(budget) {
			return nil, fmt.Errorf("images: %s: member %s declares %d bytes, more than the %d a .npz may inflate to", path, f.Name, f.UncompressedSize64, npzBudget)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("images: %s: member %s: %w", path, f.Name, err)
		}
		// Sized by the declaration (checked above), read up to the budget:
		// a member that inflates beyond what it declares is an error.
		buf := bytes.NewBuffer(make([]byte, 0, f.UncompressedSize64))
		n, err := io.Copy(buf, io.LimitReader(rc, budget+1))
		rc.Close()
		if err == nil && n > budget {
			err = fmt.Errorf("inflates to more than the %d bytes a .npz may hold", npzBudget)
		}
		if err != nil {
			return nil, fmt.Errorf("images: %s: member %s: %w", path, f.Name, err)
		}
		budget -= n
		if _, dup := out.Arrays[name]; dup {
			return nil, fmt.Errorf("images: %s: member %s appears twice", path, f.Name)
		}
		if _, dup := out.Strings[name]; dup {
			return nil, fmt.Errorf("images: %s: member %s appears twice", path, f.Name)
		}
		data := buf.Bytes()
		if s, ok, err := parseNPYString(data); ok || err != nil {
			if err != nil {
				return nil, fmt.Errorf("images: %s: member %s: %w", path, f.Name, err)
			}
			out.Strings[name] = s
			continue
		}
		a, err := parseNPY64(data)
		if err != nil {
			return nil, fmt.Errorf("images: %s: member %s: %w", path, f.Name, err)
		}
		out.Arrays[name] = a
	}
	return out, nil
}

// parseNPY64 parses a float32 or float64 .npy file into float64 values
// (float64 ones exactly), allocating only the result.
func parseNPY64(b []byte) (*Array64, error) {
	h, data, size, err := splitNPY(b)
	if err != nil {
		return nil, err
	}
	a := &Array64{Shape: h.shape, Data: make([]float64, len(data)/size)}
	for i := range a.Data {
		if size == 4 {
			a.Data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		} else {
			a.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	}
	return a, nil
}

// parseNPYString parses a 0-d little-endian unicode .npy array ('<U<n>',
// what np.savez writes for a Python str); ok is false, with no error, for
// any other dtype.
func parseNPYString(b []byte) (s string, ok bool, err error) {
	h, data, err := splitNPYHeader(b)
	if err != nil || !strings.HasPrefix(h.descr, "<U") {
		return "", false, nil
	}
	n, err := strconv.Atoi(h.descr[2:])
	switch {
	case err != nil || n < 0 || n > maxNPZString:
		return "", true, fmt.Errorf(".npy string dtype %q: want <U1 to <U%d", h.descr, maxNPZString)
	case len(h.shape) != 0:
		return "", true, fmt.Errorf(".npy strings of shape %v: only single strings (shape ()) are read", h.shape)
	case len(data) != 4*n:
		return "", true, fmt.Errorf(".npy string of dtype %s has %d bytes, want %d", h.descr, len(data), 4*n)
	}
	r := make([]rune, 0, n)
	for i := 0; i < n; i++ {
		c := rune(binary.LittleEndian.Uint32(data[4*i:]))
		if c == 0 {
			break // numpy pads shorter strings with NULs
		}
		if !utf8.ValidRune(c) {
			return "", true, fmt.Errorf(".npy string holds an invalid code point %#x", c)
		}
		r = append(r, c)
	}
	return string(r), true, nil
}

// encodeNPYString writes s as a 0-d '<U<n>' .npy array, as np.save writes
// np.str_(s).
func encodeNPYString(w io.Writer, s string) error {
	r := []rune(s)
	n := max(len(r), 1)
	buf := make([]byte, 4*n)
	for i, c := range r {
		binary.LittleEndian.PutUint32(buf[4*i:], uint32(c))
	}
	if _, err := w.Write(npyHeaderBytes("<U"+strconv.Itoa(n), nil)); err != nil {
		return err
	}
	_, err := w.Write(buf)
	return err
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
	return WriteNPZFile(path, &NPZ{Arrays: arrays})
}

// WriteNPZFile writes z's arrays (float64) and strings (0-d '<U' arrays,
// np.load gives them back as numpy strings) as WriteNPZ does, every member
// in name order.
func WriteNPZFile(path string, z *NPZ) error {
	names := make([]string, 0, len(z.Arrays)+len(z.Strings))
	for name, a := range z.Arrays {
		if a == nil || name == "" || strings.ContainsAny(name, "/\\") {
			return fmt.Errorf("images: writing %s: bad array name %q or nil array", path, name)
		}
		names = append(names, name)
	}
	for name, v := range z.Strings {
		if _, dup := z.Arrays[name]; dup || name == "" || strings.ContainsAny(name, "/\\") || utf8.RuneCountInString(v) > maxNPZString || !utf8.ValidString(v) {
			return fmt.Errorf("images: writing %s: bad string member %q", path, name)
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
			if a, ok := z.Arrays[name]; ok {
				err = encodeNPY64(f, a)
			} else {
				err = encodeNPYString(f, z.Strings[name])
			}
			if err != nil {
				return fmt.Errorf("member %s: %w", name, err)
			}
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("images: writing %s: %w", path, err)
	}
	return nil
}
