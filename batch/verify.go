package batch

import (
	"math"
	"sync/atomic"
)

// verifyCache is the process-wide share of cache hits recomputed (see
// Engine.Verify), as float64 bits.
var verifyCache atomic.Uint64

// SetVerifyCache sets the share (0 to 1) of disk cache hits that every
// engine, and the LPIPS pair cache, recomputes and compares with the
// record: the CLI's --verify-cache. Out-of-range values are clamped.
func SetVerifyCache(f float64) {
	if math.IsNaN(f) || f < 0 {
		f = 0
	}
	verifyCache.Store(math.Float64bits(min(f, 1)))
}

// VerifyCache returns the share set by SetVerifyCache (0: none).
func VerifyCache() float64 { return math.Float64frombits(verifyCache.Load()) }

// SameFloats reports whether fresh, recomputed by a network, matches the
// cached values to 1e-4 of fresh's largest magnitude: a batch of other
// images moves the last bits, an edit more.
func SameFloats(cached, fresh []float32) bool {
	if len(cached) != len(fresh) {
		return false
	}
	var scale float64
	for _, v := range fresh {
		scale = max(scale, math.Abs(float64(v)))
	}
	tol := 1e-4 * max(scale, 1e-6)
	for i, v := range fresh {
		if d := math.Abs(float64(v) - float64(cached[i])); !(d <= tol) {
			return false
		}
	}
	return true
}
