package images

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/munit-eval/munit-eval/internal/atomicfile"
)

// Array is an n-dimensional float32 array in C (row-major) order, as stored
// in a numpy .npy file: len(Data) is the product of Shape (1 for the empty
// shape of a scalar).
type Array struct {
	Shape []int
	Data  []float32
	// Data64 holds the exact values of a float64 ('<f8') file (Data then
	// holds them rounded to float32, for callers that want float32); it is
	// nil for float32 files and is never written by EncodeNPY.
	Data64 []float64
}

// Float64 returns the values in float64 without any rounding: Data64 for a
// float64 file, Data widened for a float32 one. Scores computed from
// float64 logits or features must read them through Float64, so that
// nothing is rounded to float32 on the way to the metrics.
func (a *Array) Float64() []float64 {
	if a.Data64 != nil {
		return a.Data64
	}
	out := make([]float64, len(a.Data))
	for i, v := range a.Data {
		out[i] = float64(v)
	}
	return out
}

// numel returns the product of shape, or an error when a dimension is
// negative or the product overflows limit.
func numel(shape []int, limit int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > limit/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

var npyMagic = []byte("\x93NUMPY")

// ReadNPY reads a numpy .npy file (format version 1.0, 2.0 or 3.0) holding
// little-endian float32 ('<f4') or float64 ('<f8') values in C order, of any
// rank. float64 values are kept exactly in Array.Data64 (and rounded to the
// nearest float32 in Array.Data); read them with Array.Float64. Fortran-order
// arrays, other dtypes, bad headers and truncated or over-long data are
// errors that name the file.
func ReadNPY(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	return ParseNPY(path, b)
}

// ParseNPY parses the bytes of a .npy file as ReadNPY does; name is used in
// error messages only.
func ParseNPY(name string, b []byte) (*Array, error) {
	a, err := parseNPY(b)
	if err != nil {
		return nil, fmt.Errorf("images: %s: %w", name, err)
	}
	return a, nil
}

func parseNPY(b []byte) (*Array, error) {
	h, data, size, err := splitNPY(b)
	if err != nil {
		return nil, err
	}
	a := &Array{Shape: h.shape, Data: make([]float32, len(data)/size)}
	if size == 4 {
		for i := range a.Data {
			a.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	} else {
		a.Data64 = make([]float64, len(a.Data))
		for i := range a.Data {
			v := math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			a.Data64[i], a.Data[i] = v, float32(v)
		}
	}
	return a, nil
}

// splitNPY checks a .npy file's magic, version, header and data length and
// returns the header, the data bytes and the size of one value (4 for
// '<f4', 8 for '<f8').
func splitNPY(b []byte) (*npyHeader, []byte, int, error) {
	h, data, err := splitNPYHeader(b)
	if err != nil {
		return nil, nil, 0, err
	}
	var size int
	switch h.descr {
	case "<f4":
		size = 4
	case "<f8":
		size = 8
	default:
		return nil, nil, 0, fmt.Errorf(".npy dtype %q is not supported: want little-endian float32 '<f4' or float64 '<f8'", h.descr)
	}
	if err := checkDataLen(h, data, size); err != nil {
		return nil, nil, 0, err
	}
	return h, data, size, nil
}

// checkDataLen checks that data holds exactly the header's shape of values
// of size bytes.
func checkDataLen(h *npyHeader, data []byte, size int) error {
	n, err := numel(h.shape, math.MaxInt/8)
	if err != nil {
		return fmt.Errorf("bad .npy header: %w", err)
	}
	if n > math.MaxInt/size {
		return fmt.Errorf("bad .npy header: shape %v is too large", h.shape)
	}
	switch {
	case len(data) < n*size:
		return fmt.Errorf(".npy data truncated: shape %v %s needs %d bytes, file has %d", h.shape, h.descr, n*size, len(data))
	case len(data) > n*size:
		return fmt.Errorf(".npy data too long: shape %v %s needs %d bytes, file has %d", h.shape, h.descr, n*size, len(data))
	}
	return nil
}

// splitNPYHeader checks a .npy file's magic, version and header and returns
// the header and the data bytes, whatever the dtype.
func splitNPYHeader(b []byte) (*npyHeader, []byte, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("empty file, not a .npy array")
	}
	if !bytes.HasPrefix(b, npyMagic) || len(b) < len(npyMagic)+2 {
		return nil, nil, fmt.Errorf("not a .npy file (bad magic)")
	}
	major, minor := b[6], b[7]
	var hlen, start int
	switch major {
	case 1:
		if len(b) < 10 {
			return nil, nil, fmt.Errorf(".npy header truncated")
		}
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, nil, fmt.Errorf(".npy header truncated")
		}
		h := binary.LittleEndian.Uint32(b[8:12])
		if uint64(h) > uint64(len(b)) {
			return nil, nil, fmt.Errorf(".npy header truncated (header length %d, file %d bytes)", h, len(b))
		}
		hlen, start = int(h), 12
	default:
		return nil, nil, fmt.Errorf("unsupported .npy format version %d.%d", major, minor)
	}
	if start+hlen > len(b) {
		return nil, nil, fmt.Errorf(".npy header truncated (header length %d, file %d bytes)", hlen, len(b))
	}
	h, err := parseHeader(string(b[start : start+hlen]))
	if err != nil {
		return nil, nil, fmt.Errorf("bad .npy header: %w", err)
	}
	if h.fortran {
		return nil, nil, fmt.Errorf(".npy array is in Fortran order; only C order is supported (save it with np.ascontiguousarray)")
	}
	return h, b[start+hlen:], nil
}

type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }
// It accepts exactly the keys descr, fortran_order and shape, as numpy does.
func parseHeader(s string) (*npyHeader, error) {
	p := &headerParser{s: strings.TrimRight(s, " \t\r\n\x00")}
	if !p.eat('{') {
		return nil, fmt.Errorf("does not start with '{'")
	}
	h := &npyHeader{}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q repeated", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return nil, fmt.Errorf("missing ':' after key %q", key)
		}
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return nil, fmt.Errorf("descr: %w", err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return nil, fmt.Errorf("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return nil, fmt.Errorf("shape: %w", err)
			}
		default:
			return nil, fmt.Errorf("unexpected key %q", key)
		}
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("missing ',' after %q", key)
		}
	}
	p.skip()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected text after '}'")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("missing key %q", k)
		}
	}
	return h, nil
}

type headerParser struct {
	s string
	i int
}

func (p *headerParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *headerParser) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *headerParser) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str parses a quoted string without escapes, as numpy writes them.
func (p *headerParser) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("expected a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

// tuple parses a tuple of non-negative integers: (), (3,), (4, 3, 64, 64).
func (p *headerParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("expected '('")
	}
	shape := []int{}
	for {
		if p.eat(')') {
			return shape, nil
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, fmt.Errorf("expected a non-negative integer")
		}
		d, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, fmt.Errorf("dimension %q: %w", p.s[p.i:j], err)
		}
		p.i = j
		p.word("L") // Python 2 long suffix
		shape = append(shape, d)
		if p.eat(')') {
			return shape, nil
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("expected ',' or ')'")
		}
	}
}

// EncodeNPY writes a as a numpy .npy file of little-endian float32 ('<f4'),
// C order, with the header numpy's np.save writes: format version 1.0 (2.0
// when the header would not fit 65535 bytes), padded with spaces so the
// data starts at a multiple of 64 bytes.
func EncodeNPY(w io.Writer, a *Array) error {
	if a == nil {
		return fmt.Errorf("images: encoding .npy: nil array")
	}
	n, err := numel(a.Shape, math.MaxInt/4)
	if err != nil {
		return fmt.Errorf("images: encoding .npy: %w", err)
	}
	if n != len(a.Data) {
		return fmt.Errorf("images: encoding .npy: shape %v holds %d values, data has %d", a.Shape, n, len(a.Data))
	}
	hdr := npyHeaderBytes("<f4", a.Shape)
	buf := make([]byte, 4*len(a.Data))
	for i, v := range a.Data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("images: encoding .npy: %w", err)
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("images: encoding .npy: %w", err)
	}
	return nil
}

// npyHeaderBytes is the header numpy's np.save writes for a C-order array
// of dtype descr and the shape: format version 1.0 (2.0 when the header
// would not fit 65535 bytes), padded with spaces and a newline so the data
// starts at a multiple of 64 bytes.
func npyHeaderBytes(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(dims) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	dict := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }"
	major, pre := byte(1), 10
	if len(dict)+1+pre > 65535 {
		major, pre = 2, 12
	}
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	hdr := make([]byte, total)
	copy(hdr, npyMagic)
	hdr[6], hdr[7] = major, 0
	hlen := total - pre
	if major == 1 {
		binary.LittleEndian.PutUint16(hdr[8:], uint16(hlen))
	} else {
		binary.LittleEndian.PutUint32(hdr[8:], uint32(hlen))
	}
	copy(hdr[pre:], dict)
	for i := pre + len(dict); i < total-1; i++ {
		hdr[i] = ' '
	}
	hdr[total-1] = '\n'
	return hdr
}

// WriteNPY writes a to path as EncodeNPY does, atomically (temp file +
// rename), so a cache reader never sees a half-written array.
func WriteNPY(path string, a *Array) error {
	if err := atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error { return EncodeNPY(w, a) }); err != nil {
		return fmt.Errorf("images: %w", err)
	}
	return nil
}
