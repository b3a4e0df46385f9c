package images

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// npyBytes builds a .npy file by hand: magic, version, header length
// (2 bytes for v1, 4 for v2/v3), the header text as given, then data.
func npyBytes(major byte, header string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.WriteByte(major)
	b.WriteByte(0)
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func f32le(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func f64le(vs ...float64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

func TestParseNPY(t *testing.T) {
	const f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	six := f32le(1, -2, 3.5, float32(math.Inf(1)), 0, -0.25)
	ok := []struct {
		name  string
		file  []byte
		shape []int
		data  []float32
	}{
		{"v1 2x3", npyBytes(1, f4+"      \n", six), []int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25}},
		{"v2", npyBytes(2, f4+"\n", six), []int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25}},
		{"v3", npyBytes(3, f4+"\n", six), []int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25}},
		{"float64 rounds to float32", npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", f64le(0.1, 1e300, -7)),
			[]int{3}, []float32{0.1, float32(math.Inf(1)), -7}},
		{"scalar", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", f32le(42)), []int{}, []float32{42}},
		{"zero-size", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }\n", nil), []int{0, 5}, []float32{}},
		{"key order, double quotes, no trailing comma, L suffix",
			npyBytes(1, `{"shape": (1L, 2L), "fortran_order": False, "descr": "<f4"}`+"\n", f32le(5, 6)), []int{1, 2}, []float32{5, 6}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseNPY(tc.name, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Shape) != len(tc.shape) {
				t.Fatalf("shape %v, want %v", a.Shape, tc.shape)
			}
			for i := range tc.shape {
				if a.Shape[i] != tc.shape[i] {
					t.Fatalf("shape %v, want %v", a.Shape, tc.shape)
				}
			}
			if len(a.Data) != len(tc.data) {
				t.Fatalf("%d values, want %d", len(a.Data), len(tc.data))
			}
			for i := range tc.data {
				if a.Data[i] != tc.data[i] {
					t.Fatalf("value %d = %v, want %v", i, a.Data[i], tc.data[i])
				}
			}
		})
	}
	bad := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"bad magic", []byte("\x93NUMPX\x01\x00\x10\x00{}"), "bad magic"},
		{"text", []byte("hello world, this is not numpy"), "bad magic"},
		{"magic only", []byte("\x93NUMPY"), "bad magic"},
		{"short length", []byte("\x93NUMPY\x01\x00\x10"), "header truncated"},
		{"header truncated", npyBytes(1, f4, nil)[:30], "header truncated"},
		{"v2 length too large", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{"), "header truncated"},
		{"version 4", npyBytes(4, f4, six), "version 4.0"},
		{"data truncated", npyBytes(1, f4+"\n", six[:20]), "truncated: shape [2 3] <f4 needs 24 bytes, file has 20"},
		{"data too long", npyBytes(1, f4+"\n", append(bytes.Clone(six), 0)), "too long"},
		{"fortran", npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", six), "Fortran order"},
		{"big-endian", npyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", six), `dtype ">f4" is not supported`},
		{"int32", npyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }\n", six), `dtype "<i4"`},
		{"missing shape", npyBytes(1, "{'descr': '<f4', 'fortran_order': False}\n", six), `missing key "shape"`},
		{"extra key", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}\n", six), `unexpected key "x"`},
		{"repeated key", npyBytes(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}\n", six), "repeated"},
		{"negative dim", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }\n", six), "non-negative integer"},
		{"huge dims", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", six), "too large"},
		{"overflowing dim", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", six), "dimension"},
		{"not a dict", npyBytes(1, "['descr']\n", six), "start with '{'"},
		{"garbage after", npyBytes(1, f4+" xyz\n", six), "after '}'"},
		{"unterminated", npyBytes(1, "{'descr: <f4\n", six), "unterminated"},
		{"fortran not bool", npyBytes(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}\n", six), "True or False"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseNPY("x.npy", tc.file)
			if err == nil {
				t.Fatalf("parsed %v, want an error", a.Shape)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "images: x.npy: ") {
				t.Errorf("error %q, want it to name x.npy and say %q", err, tc.want)
			}
		})
	}
}

func TestNPYRoundTrip(t *testing.T) {
	dir := t.TempDir()
	big := make([]int, 22000) // header over 64 KiB: format version 2.0
	for i := range big {
		big[i] = 1
	}
	for _, shape := range [][]int{{}, {0}, {5}, {2, 3}, {2, 1, 3, 4}, {0, 3}, big} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		a := &Array{Shape: shape, Data: make([]float32, n)}
		for i := range a.Data {
			a.Data[i] = float32(i)*0.37 - 1
		}
		p := filepath.Join(dir, "a.npy")
		if err := WriteNPY(p, a); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(p)
		if off := len(raw) - 4*n; off%64 != 0 {
			t.Errorf("shape %d dims: data starts at %d, not a multiple of 64", len(shape), off)
		}
		if wantV := byte(1); len(shape) > 1000 && raw[6] != 2 || len(shape) < 1000 && raw[6] != wantV {
			t.Errorf("shape %d dims: format version %d", len(shape), raw[6])
		}
		b, err := ReadNPY(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Shape) != len(shape) || len(b.Data) != n {
			t.Fatalf("round trip of %v: shape %v, %d values", shape, b.Shape, len(b.Data))
		}
		for i := range shape {
			if b.Shape[i] != shape[i] {
				t.Fatalf("shape %v, want %v", b.Shape, shape)
			}
		}
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
				t.Fatalf("value %d: %v, want %v", i, b.Data[i], a.Data[i])
			}
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files left, want only a.npy", len(ents))
	}
	for _, a := range []*Array{nil, {Shape: []int{2, 2}, Data: make([]float32, 3)}, {Shape: []int{-1}, Data: nil}} {
		if err := WriteNPY(filepath.Join(dir, "bad.npy"), a); err == nil {
			t.Errorf("WriteNPY(%v): no error", a)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.npy")); err == nil {
		t.Error("a failed WriteNPY left its file")
	}
	if _, err := ReadNPY(filepath.Join(dir, "missing.npy")); err == nil || !strings.Contains(err.Error(), "missing.npy") {
		t.Errorf("ReadNPY of a missing file: %v", err)
	}
}

// TestNPYMatchesNumpy re-encodes every parity .npy float32 file and checks
// that the bytes equal numpy's np.save output exactly (header included).
func TestNPYMatchesNumpy(t *testing.T) {
	dir := parityDir(t)
	paths, _ := filepath.Glob(filepath.Join(dir, "npy", "*.npy"))
	if len(paths) == 0 {
		t.Fatalf("no .npy files in %s/npy", dir)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ParseNPY(p, raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw[:128], []byte("'<f4'")) {
			continue // only float32 files can round-trip byte for byte
		}
		var b bytes.Buffer
		if err := EncodeNPY(&b, a); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), raw) {
			n := min(len(raw), 128)
			t.Errorf("%s: re-encoded bytes differ from numpy's\nnumpy: %q\nours:  %q", filepath.Base(p), raw[:n], b.Bytes()[:min(b.Len(), 128)])
		}
	}
}

func FuzzReadNPY(f *testing.F) {
	var b bytes.Buffer
	EncodeNPY(&b, &Array{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}})
	f.Add(b.Bytes())
	f.Add(npyBytes(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", f64le(3)))
	f.Add(npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", f32le(1)))
	f.Add([]byte("\x93NUMPY\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseNPY("fuzz.npy", data)
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", a.Shape)
			}
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v but %d values", a.Shape, len(a.Data))
		}
		// What parses must re-encode and parse back to the same bits.
		var out bytes.Buffer
		if err := EncodeNPY(&out, a); err != nil {
			t.Fatal(err)
		}
		b, err := ParseNPY("again.npy", out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
				t.Fatalf("value %d changed in a round trip", i)
			}
		}
	})
}

// TestFloat64KeptExact checks that a float64 file's values reach callers
// unrounded through Array.Float64 (0.1 and 1+2^-40 are not float32 values),
// and that a float32 file widens exactly.
func TestFloat64KeptExact(t *testing.T) {
	want := []float64{0.1, 1 + 0x1p-40, -7, 1e300}
	a, err := ParseNPY("f8", npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }\n", f64le(want...)))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range a.Float64() {
		if v != want[i] {
			t.Fatalf("Float64()[%d] = %v, want %v exactly", i, v, want[i])
		}
	}
	b, err := ParseNPY("f4", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32le(0.1, -3)))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Float64(); got[0] != float64(float32(0.1)) || got[1] != -3 || b.Data64 != nil {
		t.Fatalf("float32 file: Float64() = %v, Data64 = %v", got, b.Data64)
	}
}
