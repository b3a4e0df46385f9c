package translate

import (
	"hash/fnv"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/munit-eval/munit-eval/model"
)

// splitMix64 is the SplitMix64 output function (Steele, Lea and Flood,
// "Fast splittable pseudorandom number generators", OOPSLA 2014): it adds
// the golden-ratio increment 0x9e3779b97f4a7c15 to x and returns the
// finalizer z ^ (z >> 31) of the two multiply-xorshift rounds
//
//	z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
//	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
//
// It turns a structured key (seed, input, sample) into well-mixed 64-bit
// seeds for the PCG generator.
func splitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Domain tags keep the random streams of different uses apart.
const (
	domainLatent = 0x6c6174656e74 // "latent"
	domainSelect = 0x73656c656374 // "select"
	domainNoise  = 0x6e6f697365   // "noise"
)

// streamFor returns a PCG-DXSM generator (math/rand/v2's PCG, whose output
// sequence is fixed by its specification) whose 128-bit state is derived by
// SplitMix64 from the domain tag, the seed and the key words alone.
func streamFor(domain uint64, seed int64, keys ...uint64) *rand.PCG {
	h := splitMix64(domain ^ splitMix64(uint64(seed)))
	for _, k := range keys {
		h = splitMix64(h ^ k)
	}
	return rand.NewPCG(h, splitMix64(h^0xda3e39cb94b95bdb))
}

// Latent returns the latent code of sample k of input i for seed: dim
// independent draws from N(0, 1), as float32. It depends on (seed, input, k)
// and dim only, never on the batch size, the order of work, the thread count
// or what was already cached, so sample k of input i always gets the same
// code (docs/models.md). The first d values do not depend on dim either.
//
// The generator is PCG-DXSM (math/rand/v2) seeded through SplitMix64 with
// (seed, input, k); normal variates come from the Box-Muller transform
// (Box and Muller, 1958) on pairs of 53-bit uniforms u1 in (0, 1] and
// u2 in [0, 1):
//
//	z0 = sqrt(-2 ln u1) cos(2 pi u2),  z1 = sqrt(-2 ln u1) sin(2 pi u2)
//
// computed in float64 and rounded to float32. Box-Muller is written out here
// rather than taken from rand.NormFloat64 so that the codes are fixed by this
// function alone, not by a library's choice of algorithm.
func Latent(seed int64, input, k, dim int) []float32 {
	out := make([]float32, dim)
	fillLatent(out, seed, input, k)
	return out
}

// fillLatent writes the latent code of (seed, input, k) into dst.
func fillLatent(dst []float32, seed int64, input, k int) {
	fillNormal(dst, streamFor(domainLatent, seed, uint64(input), uint64(k)))
}

// fillNormal writes len(dst) standard normal draws from g (Box-Muller, see
// Latent).
func fillNormal(dst []float32, g *rand.PCG) {
	const scale = 1.0 / (1 << 53)
	for j := 0; j < len(dst); j += 2 {
		u1 := (float64(g.Uint64()>>11) + 1) * scale // (0, 1]
		u2 := float64(g.Uint64()>>11) * scale       // [0, 1)
		r := math.Sqrt(-2 * math.Log(u1))
		s, c := math.Sincos(2 * math.Pi * u2)
		dst[j] = float32(r * c)
		if j+1 < len(dst) {
			dst[j+1] = float32(r * s)
		}
	}
}

// Noise returns the values of the noise input n for sample k of input i
// and seed, for an image of h x w: the tensor [1, C, h/S, w/S] in row-major
// order. Its stream is keyed by (seed, input, k, FNV-1a of n.Input) in a
// domain of its own, apart from the latent code's, so a sample's noise
// depends on nothing else: not on the batch, the order of work, the shard,
// a resumption, or the other noise inputs. Uniform values are
// float32(x >> 40) / 2^24 for 64-bit PCG outputs x, exactly representable
// and in [0, 1); normal values are Box-Muller draws as in Latent.
func Noise(seed int64, input, k int, n model.NoiseInput, h, w int) ([]float32, error) {
	shape, err := n.Shape(1, h, w)
	if err != nil {
		return nil, err
	}
	dst := make([]float32, shape[1]*shape[2]*shape[3])
	fillNoise(dst, seed, input, k, n)
	return dst, nil
}

// fillNoise writes the noise of (seed, input, k, n.Input) into dst.
func fillNoise(dst []float32, seed int64, input, k int, n model.NoiseInput) {
	name := fnv.New64a()
	name.Write([]byte(n.Input))
	g := streamFor(domainNoise, seed, uint64(input), uint64(k), name.Sum64())
	if n.Dist == model.NoiseNormal {
		fillNormal(dst, g)
		return
	}
	const scale = 1.0 / (1 << 24)
	for j := range dst {
		dst[j] = float32(g.Uint64()>>40) * scale
	}
}

// selectRandom returns a seeded random subset of m indices out of n, in
// increasing order: the last m entries of a Fisher-Yates shuffle of
// 0..n-1 drawn from the seed's "select" stream, then sorted, so the inputs
// keep the folder's sorted order. The subset depends on (seed, n, m) only.
func selectRandom(seed int64, n, m int) []int {
	g := streamFor(domainSelect, seed, uint64(n))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := boundedUint(g, uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	sub := append([]int(nil), perm[n-m:]...)
	slices.Sort(sub)
	return sub
}

// boundedUint returns a uniform integer in [0, n) from g by Lemire's
// multiply-and-reject method ("Fast random integer generation in an
// interval", ACM TOMACS 2019): the high word of x*n for a uniform 64-bit x,
// rejecting the low words below 2^64 mod n so every value is equally likely.
func boundedUint(g *rand.PCG, n uint64) int {
	hi, lo := bits.Mul64(g.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(g.Uint64(), n)
		}
	}
	return int(hi)
}
