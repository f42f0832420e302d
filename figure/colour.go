package figure

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
)

// viridisTable samples matplotlib's viridis (CC0, by Nathaniel Smith and
// Stéfan van der Walt): every fourth of its 256 sRGB entries and the last,
// each as {entry, r, g, b}. Linear interpolation between them is within
// 1/255 of the full table.
var viridisTable = [...][4]float64{
	{0, 0.267004, 0.004874, 0.329415},
	{4, 0.272594, 0.025563, 0.353093},
	{8, 0.277018, 0.050344, 0.375715},
	{12, 0.280267, 0.073417, 0.397163},
	{16, 0.282327, 0.094955, 0.417331},
	{20, 0.283197, 0.115680, 0.436115},
	{24, 0.282884, 0.135920, 0.453427},
	{28, 0.281412, 0.155834, 0.469201},
	{32, 0.278826, 0.175490, 0.483397},
	{36, 0.275191, 0.194905, 0.496005},
	{40, 0.270595, 0.214069, 0.507052},
	{44, 0.265145, 0.232956, 0.516599},
	{48, 0.258965, 0.251537, 0.524736},
	{52, 0.252194, 0.269783, 0.531579},
	{56, 0.244972, 0.287675, 0.537260},
	{60, 0.237441, 0.305202, 0.541921},
	{64, 0.229739, 0.322361, 0.545706},
	{68, 0.221989, 0.339161, 0.548752},
	{72, 0.214298, 0.355619, 0.551184},
	{76, 0.206756, 0.371758, 0.553117},
	{80, 0.199430, 0.387607, 0.554642},
	{84, 0.192357, 0.403199, 0.555836},
	{88, 0.185556, 0.418570, 0.556753},
	{92, 0.179019, 0.433756, 0.557430},
	{96, 0.172719, 0.448791, 0.557885},
	{100, 0.166617, 0.463708, 0.558119},
	{104, 0.160665, 0.478540, 0.558115},
	{108, 0.154815, 0.493313, 0.557840},
	{112, 0.149039, 0.508051, 0.557250},
	{116, 0.143343, 0.522773, 0.556295},
	{120, 0.137770, 0.537492, 0.554906},
	{124, 0.132444, 0.552216, 0.553018},
	{128, 0.127568, 0.566949, 0.550556},
	{132, 0.123463, 0.581687, 0.547445},
	{136, 0.120565, 0.596422, 0.543611},
	{140, 0.119423, 0.611141, 0.538982},
	{144, 0.120638, 0.625828, 0.533488},
	{148, 0.124780, 0.640461, 0.527068},
	{152, 0.132268, 0.655014, 0.519661},
	{156, 0.143303, 0.669459, 0.511215},
	{160, 0.157851, 0.683765, 0.501686},
	{164, 0.175707, 0.697900, 0.491033},
	{168, 0.196571, 0.711827, 0.479221},
	{172, 0.220124, 0.725509, 0.466226},
	{176, 0.246070, 0.738910, 0.452024},
	{180, 0.274149, 0.751988, 0.436601},
	{184, 0.304148, 0.764704, 0.419943},
	{188, 0.335885, 0.777018, 0.402049},
	{192, 0.369214, 0.788888, 0.382914},
	{196, 0.404001, 0.800275, 0.362552},
	{200, 0.440137, 0.811138, 0.340967},
	{204, 0.477504, 0.821444, 0.318195},
	{208, 0.515992, 0.831158, 0.294279},
	{212, 0.555484, 0.840254, 0.269281},
	{216, 0.595839, 0.848717, 0.243329},
	{220, 0.636902, 0.856542, 0.216620},
	{224, 0.678489, 0.863742, 0.189503},
	{228, 0.720391, 0.870350, 0.162603},
	{232, 0.762373, 0.876424, 0.137064},
	{236, 0.804182, 0.882046, 0.114965},
	{240, 0.845561, 0.887322, 0.099702},
	{244, 0.886271, 0.892374, 0.095374},
	{248, 0.926106, 0.897330, 0.104071},
	{252, 0.964894, 0.902323, 0.123941},
	{255, 0.993248, 0.906157, 0.143936},
}

// Viridis returns the viridis colour map, a perceptually uniform
// sequential map from dark purple through blue and green to yellow that
// reads correctly in grey scale and to colour-blind readers. Its range is
// [0, 1] until set.
func Viridis() palette.ColorMap {
	return &tableMap{min: 0, max: 1, alpha: 1}
}

// tableMap is a palette.ColorMap interpolating viridisTable in sRGB.
type tableMap struct {
	min, max, alpha float64
}

var _ palette.ColorMap = (*tableMap)(nil)

func (m *tableMap) At(v float64) (color.Color, error) {
	if !(m.min < m.max) {
		return nil, fmt.Errorf("figure: colour map range [%g, %g] is empty", m.min, m.max)
	}
	if !(v >= m.min && v <= m.max) {
		return nil, fmt.Errorf("figure: value %g outside colour map range [%g, %g]", v, m.min, m.max)
	}
	return viridisAt((v-m.min)/(m.max-m.min), m.alpha), nil
}

func (m *tableMap) Max() float64     { return m.max }
func (m *tableMap) SetMax(v float64) { m.max = v }
func (m *tableMap) Min() float64     { return m.min }
func (m *tableMap) SetMin(v float64) { m.min = v }
func (m *tableMap) Alpha() float64   { return m.alpha }
func (m *tableMap) SetAlpha(a float64) {
	if !(a >= 0 && a <= 1) {
		panic("figure: alpha out of [0, 1]")
	}
	m.alpha = a
}

func (m *tableMap) Palette(n int) palette.Palette {
	c := make(colours, n)
	for i := range c {
		u := 0.0
		if n > 1 {
			u = float64(i) / float64(n-1)
		}
		c[i] = viridisAt(u, m.alpha)
	}
	return c
}

type colours []color.Color

func (c colours) Colors() []color.Color { return c }

// viridisAt returns viridis at u in [0, 1] with opacity alpha.
func viridisAt(u, alpha float64) color.Color {
	u = math.Max(0, math.Min(1, u)) * 255
	t := viridisTable[:]
	k := int(u) / 4
	if k >= len(t)-1 {
		k = len(t) - 2
	}
	a, b := t[k], t[k+1]
	f := (u - a[0]) / (b[0] - a[0])
	var rgb [3]float64
	for i := range rgb {
		rgb[i] = a[i+1] + f*(b[i+1]-a[i+1])
	}
	return color.NRGBA{R: byte8(rgb[0]), G: byte8(rgb[1]), B: byte8(rgb[2]), A: byte8(alpha)}
}

func byte8(v float64) uint8 { return uint8(math.Round(255 * math.Max(0, math.Min(1, v)))) }

// Diverging returns the colour map used for differences: Moreland's
// smooth cool-to-warm map from blue through light grey to red. Its range
// is [0, 1] until set; figure centres it at zero.
func Diverging() palette.DivergingColorMap {
	m := moreland.SmoothBlueRed()
	m.SetMin(0)
	m.SetMax(1)
	return m
}

// lutSize is the number of colours a colour map is sampled at.
const lutSize = 256

// sample returns lutSize colours of m evenly over its range [Min, Max],
// or over [0, 1] if that range is empty.
func sample(m palette.ColorMap) []color.NRGBA {
	lo, hi := m.Min(), m.Max()
	if !(lo < hi) {
		lo, hi = 0, 1
		defer func(min, max float64) { m.SetMin(min); m.SetMax(max) }(m.Min(), m.Max())
		m.SetMin(lo)
		m.SetMax(hi)
	}
	lut := make([]color.NRGBA, lutSize)
	for i := range lut {
		v := lo + (hi-lo)*float64(i)/float64(lutSize-1)
		if i == lutSize-1 {
			v = hi
		}
		c, err := m.At(v)
		if err != nil {
			panic(fmt.Sprintf("figure: colour map: %v", err))
		}
		lut[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
	}
	return lut
}

// colourScale maps data values to colours of a lookup table.
type colourScale struct {
	lut    []color.NRGBA
	lo, hi float64 // range of data values, lo < hi (both > 0 for log)
	log    bool
}

// norm returns the position of v in the range, clamped to [0, 1].
func (s *colourScale) norm(v float64) float64 {
	var u float64
	if s.log {
		if !(v > 0) {
			return 0
		}
		u = math.Log(v/s.lo) / math.Log(s.hi/s.lo)
	} else {
		u = (v - s.lo) / (s.hi - s.lo)
	}
	return math.Max(0, math.Min(1, u))
}

// at returns the colour of v.
func (s *colourScale) at(v float64) color.NRGBA {
	return s.lut[int(s.norm(v)*float64(len(s.lut)-1)+0.5)]
}

// newColourScale returns the scale of a sequential colour map over the
// values in data, following the colour settings of s. It returns an error
// if a fixed end of the range leaves it empty.
func (s *settings) newColourScale(data ...[]float64) (*colourScale, error) {
	cs := &colourScale{lut: sample(s.ColourMap), log: s.ColourScale == Log}
	cs.lo, cs.hi = autoRange(s.ColourScale == Log, s.Decades, data...)
	if s.ColourMin != 0 {
		cs.lo = s.ColourMin
	}
	if s.ColourMax != 0 {
		cs.hi = s.ColourMax
	}
	if cs.log && !(cs.lo > 0) {
		return nil, fmt.Errorf("figure: a log colour scale needs a positive range, got [%g, %g]", cs.lo, cs.hi)
	}
	if !(cs.lo < cs.hi) {
		return nil, fmt.Errorf("figure: colour range [%g, %g] is empty", cs.lo, cs.hi)
	}
	return cs, nil
}

// divergingScale returns a diverging scale centred at zero over the
// values in data.
func divergingScale(data ...[]float64) *colourScale {
	var a float64
	for _, d := range data {
		for _, v := range d {
			a = math.Max(a, math.Abs(v))
		}
	}
	if a == 0 {
		a = 1
	}
	return &colourScale{lut: sample(Diverging()), lo: -a, hi: a}
}

// autoRange returns the range of the finite values in data. On a linear
// scale it starts at 0 when no value is negative; an empty or single-value
// range is widened. On a log scale it spans the positive values, at most
// decades below the largest, and is [0.1, 1] if there are none.
func autoRange(log bool, decades float64, data ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, d := range data {
		for _, v := range d {
			if isBad(v) || (log && v <= 0) {
				continue
			}
			lo = math.Min(lo, v)
			hi = math.Max(hi, v)
		}
	}
	if log {
		if lo > hi {
			return 0.1, 1
		}
		lo = math.Max(lo, hi*math.Pow(10, -decades))
		if lo == hi {
			lo, hi = lo/10, hi*10
		}
		return lo, hi
	}
	if lo > hi {
		return 0, 1
	}
	lo = math.Min(lo, 0)
	if lo == hi {
		if lo == 0 {
			return 0, 1
		}
		return lo - math.Abs(lo), hi + math.Abs(hi) // a negative constant: [2c, 0]
	}
	return lo, hi
}
