package metrics

// mt19937 is the 32-bit Mersenne Twister (Matsumoto & Nishimura 1998) as
// numpy.random.RandomState uses it, so that torch-fidelity's shuffled
// splits can be reproduced exactly. It is not used for anything else.
type mt19937 struct {
	key [624]uint32
	pos int
}

// newMT19937 seeds like randomkit's rk_seed (numpy's legacy seeding of an
// integer seed): Knuth's initialisation of the reference implementation.
func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{pos: 624}
	m.key[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.key[i-1]
		m.key[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

// next returns the next tempered 32-bit output (randomkit's rk_random).
func (m *mt19937) next() uint32 {
	const (
		n, mm     = 624, 397
		matrixA   = 0x9908b0df
		upperMask = 0x80000000
		lowerMask = 0x7fffffff
	)
	if m.pos == n {
		for i := range n {
			y := (m.key[i] & upperMask) | (m.key[(i+1)%n] & lowerMask)
			v := m.key[(i+mm)%n] ^ (y >> 1)
			if y&1 != 0 {
				v ^= matrixA
			}
			m.key[i] = v
		}
		m.pos = 0
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// interval returns a uniform integer in [0, max] by rejection on the
// smallest all-ones mask ≥ max (randomkit's rk_interval, max < 2^32).
func (m *mt19937) interval(max uint32) uint32 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := m.next() & mask; v <= max {
			return v
		}
	}
}

// numpyPermutation returns numpy.random.RandomState(seed).permutation(n):
// arange(n) shuffled by Fisher–Yates from the end, j = interval(i) for
// i = n−1 … 1 (numpy's legacy _shuffle_raw).
func numpyPermutation(n int, seed uint32) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r := newMT19937(seed)
	for i := n - 1; i >= 1; i-- {
		j := int(r.interval(uint32(i)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
