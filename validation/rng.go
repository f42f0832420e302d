package validation

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// wyrand is the generator of the particle loops: a Weyl sequence
// s += 0xa0761d6478bd642f mixed by a 64×64→128-bit multiply (Wang Yi's
// wyrand, the generator of Go's runtime before Go 1.22; it passes BigCrush
// and PractRand). Its recurrence is one addition, so successive draws
// pipeline — three times the throughput of the 128-bit PCG, whose multiply
// sits on the recurrence.
//
// Chunk c of a simulation with seed s starts from the first output of
// rand.NewPCG(s, c), so that streams are fixed by (seed, chunk) alone. Two
// chunks overlap only if their starting points lie within the number of
// draws of a chunk on the period 2^64: for C chunks of M draws the chance is
// about C²M/2^64, 5·10^-5 for 10^3 chunks of 10^9 draws.
type wyrand struct {
	s uint64
}

const (
	wyInc = 0xa0761d6478bd642f
	wyMix = 0xe7037ed1a0b428db
)

// newStream returns the generator of chunk c for seed.
func newStream(seed, c uint64) wyrand {
	return wyrand{rand.NewPCG(seed, c).Uint64()}
}

// wyOut returns the output for state s (already advanced).
func wyOut(s uint64) uint64 {
	hi, lo := bits.Mul64(s, s^wyMix)
	return hi ^ lo
}

// Uint64 returns the next 64 random bits.
func (w *wyrand) Uint64() uint64 {
	w.s += wyInc
	return wyOut(w.s)
}

// Float64 returns a uniform number in [0, 1) with 53 random bits.
func (w *wyrand) Float64() float64 {
	return float64(w.Uint64()>>11) * 0x1p-53
}

// open01 returns a uniform number in (0, 1], safe for math.Log.
func (w *wyrand) open01() float64 {
	return float64(w.Uint64()>>11+1) * 0x1p-53
}

// Ziggurat tables for the standard normal with 1024 layers (Marsaglia &
// Tsang 2000) at 53-bit resolution: a 64-bit draw gives the layer (low 10
// bits) and a signed 53-bit abscissa (high 53 bits). The bits are disjoint,
// so the two are independent (Doornik 2005 showed the correlation of the
// original 32-bit version, which took both from one word). With 1024
// layers 99.57% of the draws are accepted at once (97.2% with 128). zigR is
// the start of the tail and zigV the area of each layer, solved for 1024
// layers to 20 digits.
const (
	zigR = 4.0388498461095045227
	zigV = 0.0012263246463530880729
	zigM = 4503599627370496.0 // 2^52
	zigN = 1024
)

// zigLayer holds what the fast path reads, together: |j| < k accepts
// x = j*w at once.
type zigLayer struct {
	k int64
	w float64
}

var (
	zig  [zigN]zigLayer
	zigF [zigN]float64 // f(x_i) = exp(−x_i²/2)
)

func init() {
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	zig[0] = zigLayer{int64(dn / q * zigM), q / zigM}
	zig[1].k = 0
	zig[zigN-1].w = dn / zigM
	zigF[0] = 1
	zigF[zigN-1] = math.Exp(-0.5 * dn * dn)
	for i := zigN - 2; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		zig[i+1].k = int64(dn / tn * zigM)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zig[i].w = dn / zigM
	}
}

// Norm returns a standard normal deviate.
func (w *wyrand) Norm() float64 {
	r := w.Uint64()
	z := &zig[r&(zigN-1)]
	j := int64(r) >> 11
	if a := (j ^ j>>63) - j>>63; a < z.k {
		return float64(j) * z.w
	}
	return w.normSlow(j, r&(zigN-1))
}

// fillNorm fills dst with standard normal deviates. It is the hot loop of
// the simulation: the state lives in a register.
func (w *wyrand) fillNorm(dst []float64) {
	s := w.s
	for n := range dst {
		s += wyInc
		r := wyOut(s)
		z := &zig[r&(zigN-1)]
		j := int64(r) >> 11
		if a := (j ^ j>>63) - j>>63; a < z.k {
			dst[n] = float64(j) * z.w
			continue
		}
		w.s = s
		dst[n] = w.normSlow(j, r&(zigN-1))
		s = w.s
	}
	w.s = s
}

// normSlow completes a draw that the fast path rejected (0.43% of them):
// the wedge test against the density, or the tail.
func (w *wyrand) normSlow(j int64, i uint64) float64 {
	for {
		x := float64(j) * zig[i].w
		if i == 0 {
			// Tail beyond zigR (Marsaglia 1964).
			for {
				x = -math.Log(w.open01()) / zigR
				y := -math.Log(w.open01())
				if y+y >= x*x {
					break
				}
			}
			if j > 0 {
				return zigR + x
			}
			return -zigR - x
		}
		if zigF[i]+w.Float64()*(zigF[i-1]-zigF[i]) < math.Exp(-0.5*x*x) {
			return x
		}
		r := w.Uint64()
		i = r & (zigN - 1)
		j = int64(r) >> 11
		if a := (j ^ j>>63) - j>>63; a < zig[i].k {
			return float64(j) * zig[i].w
		}
	}
}
