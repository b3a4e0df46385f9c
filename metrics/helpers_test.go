package metrics

import (
	"encoding/binary"
	"fmt"
	"github.com/munit-eval/munit-eval/internal/paritytest"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// parityDir returns the parity fixtures folder or skips the test.
func parityDir(t testing.TB) string { return paritytest.Dir(t) }

var npyShape = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)

// readNPY reads a little-endian float32 ('<f4'), C-order .npy file of
// format version 1.0: a tiny reader for the tests, independent of the
// images package.
func readNPY(path string) ([]int, []float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
		return nil, nil, fmt.Errorf("%s: not a version 1 .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if len(b) < 10+hl {
		return nil, nil, fmt.Errorf("%s: truncated header", path)
	}
	hdr := string(b[10 : 10+hl])
	if !strings.Contains(hdr, "'descr': '<f4'") || !strings.Contains(hdr, "'fortran_order': False") {
		return nil, nil, fmt.Errorf("%s: want '<f4' C order, header %q", path, hdr)
	}
	m := npyShape.FindStringSubmatch(hdr)
	if m == nil {
		return nil, nil, fmt.Errorf("%s: no shape in header %q", path, hdr)
	}
	var shape []int
	n := 1
	for _, f := range strings.Split(m[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: shape %q: %v", path, m[1], err)
		}
		shape = append(shape, d)
		n *= d
	}
	data := b[10+hl:]
	if len(data) != 4*n {
		return nil, nil, fmt.Errorf("%s: %d data bytes for %d values", path, len(data), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return shape, out, nil
}

func near(got, want, tol float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= tol
}
