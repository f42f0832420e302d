package expression

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// xyt are the variables of most tests.
var xyt = []string{"x", "y", "t"}

// ulps returns the distance between a and b in units in the last place of
// the larger in magnitude; 0 if both are NaN or a == b.
func ulps(a, b float64) float64 {
	switch {
	case a == b || (math.IsNaN(a) && math.IsNaN(b)):
		return 0
	case math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0):
		return math.Inf(1)
	}
	m := math.Max(math.Abs(a), math.Abs(b))
	return math.Abs(a-b) / (math.Nextafter(m, math.Inf(1)) - m)
}

// samePoint reports whether a and b are the same float64, NaN equal to NaN.
func same(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// testPoints returns a fixed set of (x, y, t) points: a grid through zero,
// integers and halves, plus seeded random points.
func testPoints() [][]float64 {
	var pts [][]float64
	for _, x := range []float64{-3, -1.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 2.75} {
		for _, y := range []float64{-2, -0.7, 0, 0.3, 1, 2.5} {
			pts = append(pts, []float64{x, y, 0.125})
		}
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		pts = append(pts, []float64{4 * rnd.NormFloat64(), 2 * rnd.NormFloat64(), rnd.Float64()})
	}
	return pts
}

func b2fTest(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Tolerances of TestValues, in ulps:
//   - exact: the evaluator performs the same floating-point operations as
//     the Go reference, in the same order, so results are identical.
//   - fused: the reference contains a*b + c, which Go may fuse into one FMA
//     instruction on arm64, ppc64 and s390x (the spec allows it), while the
//     evaluator rounds each operation; the fused result differs by at most
//     about 1 ulp of the product, which cancellation can magnify, so the
//     references with fusable terms avoid cancellation and allow 2.
//   - powi: x^n for integer n by repeated squaring against math.Pow (the
//     same algorithm on a normalised mantissa), at most ~log2(n)+popcount(n)
//     roundings, compounded through the squarings; 4 covers |n| <= 8 and 16
//     covers n = 64 at these points.
const (
	exact = 0
	fused = 2
	powi4 = 4
)

func TestValues(t *testing.T) {
	cases := []struct {
		src string
		f   func(x, y, t float64) float64
		tol float64
	}{
		// Operators.
		{"x + y", func(x, y, t float64) float64 { return x + y }, exact},
		{"x - y", func(x, y, t float64) float64 { return x - y }, exact},
		{"x * y", func(x, y, t float64) float64 { return x * y }, exact},
		{"x / y", func(x, y, t float64) float64 { return x / y }, exact},
		{"x % y", func(x, y, t float64) float64 { return math.Mod(x, y) }, exact},
		{"x ^ y", func(x, y, t float64) float64 { return math.Pow(x, y) }, powi4},
		{"x ** y", func(x, y, t float64) float64 { return math.Pow(x, y) }, powi4},
		{"-x", func(x, y, t float64) float64 { return -x }, exact},
		{"+x", func(x, y, t float64) float64 { return x }, exact},
		{"x < y", func(x, y, t float64) float64 { return b2fTest(x < y) }, exact},
		{"x <= y", func(x, y, t float64) float64 { return b2fTest(x <= y) }, exact},
		{"x > y", func(x, y, t float64) float64 { return b2fTest(x > y) }, exact},
		{"x >= y", func(x, y, t float64) float64 { return b2fTest(x >= y) }, exact},
		{"x == y", func(x, y, t float64) float64 { return b2fTest(x == y) }, exact},
		{"x != y", func(x, y, t float64) float64 { return b2fTest(x != y) }, exact},
		{"x > 0 && y > 0", func(x, y, t float64) float64 { return b2fTest(x > 0 && y > 0) }, exact},
		{"x > 0 and y > 0", func(x, y, t float64) float64 { return b2fTest(x > 0 && y > 0) }, exact},
		{"x > 0 || y > 0", func(x, y, t float64) float64 { return b2fTest(x > 0 || y > 0) }, exact},
		{"x > 0 or y > 0", func(x, y, t float64) float64 { return b2fTest(x > 0 || y > 0) }, exact},
		{"!(x > 0)", func(x, y, t float64) float64 { return b2fTest(!(x > 0)) }, exact},
		{"not (x > 0)", func(x, y, t float64) float64 { return b2fTest(!(x > 0)) }, exact},
		{"-1 < x < 1", func(x, y, t float64) float64 { return b2fTest(-1 < x && x < 1) }, exact},
		{"x > 0 ? y : -y", func(x, y, t float64) float64 {
			if x > 0 {
				return y
			}
			return -y
		}, exact},
		{"if x > 0 { y } else { 2*y }", func(x, y, t float64) float64 {
			if x > 0 {
				return y
			}
			return 2 * y
		}, exact},
		{"x < 0 ? -1 : x < 1 ? x : 1", func(x, y, t float64) float64 {
			switch {
			case x < 0:
				return -1
			case x < 1:
				return x
			}
			return 1
		}, exact},

		// Precedence and associativity.
		{"-x^2", func(x, y, t float64) float64 { return -(x * x) }, exact},
		{"(-x)^2", func(x, y, t float64) float64 { return x * x }, exact},
		{"-x*y", func(x, y, t float64) float64 { return (-x) * y }, exact},
		{"x - y - t", func(x, y, t float64) float64 { return (x - y) - t }, exact},
		{"x / y / 4", func(x, y, t float64) float64 { return (x / y) / 4 }, exact},
		{"x^2^2", func(x, y, t float64) float64 { return math.Pow(x, 4) }, powi4},
		{"2^-x", func(x, y, t float64) float64 { return math.Pow(2, -x) }, powi4},
		{"2^-x^2", func(x, y, t float64) float64 { return math.Pow(2, -(x * x)) }, powi4},
		{"x + y*t", func(x, y, t float64) float64 { return x + float64(y*t) }, exact},
		{"(x + y)*t", func(x, y, t float64) float64 { return (x + y) * t }, exact},
		{"x - -y", func(x, y, t float64) float64 { return x + y }, exact},
		{"2*x^3", func(x, y, t float64) float64 { return 2 * (x * x * x) }, powi4},

		// Integer powers: repeated squaring, against math.Pow.
		{"x^2", func(x, y, t float64) float64 { return x * x }, exact},
		{"x^3", func(x, y, t float64) float64 { return math.Pow(x, 3) }, powi4},
		{"x^-1", func(x, y, t float64) float64 { return 1 / x }, exact},
		{"x^-3", func(x, y, t float64) float64 { return math.Pow(x, -3) }, powi4},
		{"x^8", func(x, y, t float64) float64 { return math.Pow(x, 8) }, powi4},
		{"(y/2)^64", func(x, y, t float64) float64 { return math.Pow(y/2, 64) }, 16},
		{"x^65", func(x, y, t float64) float64 { return math.Pow(x, 65) }, exact},
		{"x^0.5", func(x, y, t float64) float64 { return math.Pow(x, 0.5) }, exact},
		{"pow(x, 1.5)", func(x, y, t float64) float64 { return math.Pow(x, 1.5) }, exact},
		{"mod(x, 0.75)", func(x, y, t float64) float64 { return math.Mod(x, 0.75) }, exact},

		// Functions.
		{"exp(x)", func(x, y, t float64) float64 { return math.Exp(x) }, exact},
		{"expm1(x)", func(x, y, t float64) float64 { return math.Expm1(x) }, exact},
		{"log(x)", func(x, y, t float64) float64 { return math.Log(x) }, exact},
		{"ln(x)", func(x, y, t float64) float64 { return math.Log(x) }, exact},
		{"log10(x)", func(x, y, t float64) float64 { return math.Log10(x) }, exact},
		{"log2(x)", func(x, y, t float64) float64 { return math.Log2(x) }, exact},
		{"log1p(x)", func(x, y, t float64) float64 { return math.Log1p(x) }, exact},
		{"sqrt(x)", func(x, y, t float64) float64 { return math.Sqrt(x) }, exact},
		{"cbrt(x)", func(x, y, t float64) float64 { return math.Cbrt(x) }, exact},
		{"abs(x)", func(x, y, t float64) float64 { return math.Abs(x) }, exact},
		{"sin(x)", func(x, y, t float64) float64 { return math.Sin(x) }, exact},
		{"cos(x)", func(x, y, t float64) float64 { return math.Cos(x) }, exact},
		{"tan(x)", func(x, y, t float64) float64 { return math.Tan(x) }, exact},
		{"asin(y/2)", func(x, y, t float64) float64 { return math.Asin(y / 2) }, exact},
		{"acos(y/2)", func(x, y, t float64) float64 { return math.Acos(y / 2) }, exact},
		{"atan(x)", func(x, y, t float64) float64 { return math.Atan(x) }, exact},
		{"sinh(x)", func(x, y, t float64) float64 { return math.Sinh(x) }, exact},
		{"cosh(x)", func(x, y, t float64) float64 { return math.Cosh(x) }, exact},
		{"tanh(x)", func(x, y, t float64) float64 { return math.Tanh(x) }, exact},
		{"asinh(x)", func(x, y, t float64) float64 { return math.Asinh(x) }, exact},
		{"acosh(x)", func(x, y, t float64) float64 { return math.Acosh(x) }, exact},
		{"atanh(y/2)", func(x, y, t float64) float64 { return math.Atanh(y / 2) }, exact},
		{"erf(x)", func(x, y, t float64) float64 { return math.Erf(x) }, exact},
		{"erfc(x)", func(x, y, t float64) float64 { return math.Erfc(x) }, exact},
		{"floor(x)", func(x, y, t float64) float64 { return math.Floor(x) }, exact},
		{"ceil(x)", func(x, y, t float64) float64 { return math.Ceil(x) }, exact},
		{"trunc(x)", func(x, y, t float64) float64 { return math.Trunc(x) }, exact},
		{"round(x)", func(x, y, t float64) float64 { return math.Round(x) }, exact},
		{"sign(x)", func(x, y, t float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}, exact},
		{"heaviside(x)", func(x, y, t float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return 0
			}
			return 0.5
		}, exact},
		{"atan2(y, x)", func(x, y, t float64) float64 { return math.Atan2(y, x) }, exact},
		{"hypot(x, y)", func(x, y, t float64) float64 { return math.Hypot(x, y) }, exact},
		{"min(x, y)", func(x, y, t float64) float64 { return math.Min(x, y) }, exact},
		{"max(x, y)", func(x, y, t float64) float64 { return math.Max(x, y) }, exact},
		{"min(x, y, 0.5)", func(x, y, t float64) float64 { return math.Min(math.Min(x, y), 0.5) }, exact},
		{"max(x, y, -1, t)", func(x, y, t float64) float64 { return math.Max(math.Max(math.Max(x, y), -1), t) }, exact},

		// Constants, literals, comments, let.
		{"pi*x", func(x, y, t float64) float64 { return math.Pi * x }, exact},
		{"e*x", func(x, y, t float64) float64 { return math.E * x }, exact},
		{"e^x", func(x, y, t float64) float64 { return math.Exp(x) }, exact},
		{"0x10 + 0b101*x - 0o17", func(x, y, t float64) float64 { return (16 + 5*x) - 15 }, fused},
		{"1_000*x + .5 + 1e-3*y + 2E1", func(x, y, t float64) float64 {
			return float64(float64(1000*x+0.5)+float64(1e-3*y)) + 20
		}, fused},
		{"x /* comment */ + y // comment", func(x, y, t float64) float64 { return x + y }, exact},
		{"true ? x : y", func(x, y, t float64) float64 { return x }, exact},
		{"let r2 = x^2 + y^2; exp(-r2/2)*r2", func(x, y, t float64) float64 {
			r2 := x*x + y*y
			return math.Exp(-r2/2) * r2
		}, fused},

		// Coefficients from specs.
		{"-x + y", func(x, y, t float64) float64 { return -x + y }, exact},
		{"0.5*(1+y^2)", func(x, y, t float64) float64 { return 0.5 * (1 + y*y) }, exact},
		{"(x^2-1)^2 + y^2/2", func(x, y, t float64) float64 {
			u := x*x - 1
			return u*u + y*y/2
		}, fused},
		{"exp(-((x-1.5)^2 + y^2)/0.1)", func(x, y, t float64) float64 {
			u := x - 1.5
			return math.Exp(-(u*u + y*y) / 0.1)
		}, fused},
		{"sin(2*pi*t)*x", func(x, y, t float64) float64 { return math.Sin(2*math.Pi*t) * x }, exact},
	}
	pts := testPoints()
	for _, c := range cases {
		e, err := Compile(c.src, xyt)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		worst := 0.0
		for _, p := range pts {
			got, want := e.Eval(p), c.f(p[0], p[1], p[2])
			if d := ulps(got, want); d > c.tol {
				t.Errorf("%q at %v = %v, want %v (%.3g ulps > %v)", c.src, p, got, want, d, c.tol)
				break
			} else {
				worst = max(worst, d)
			}
		}
		if testing.Verbose() && worst > 0 {
			t.Logf("%q: worst %.3g ulps", c.src, worst)
		}
	}
}

func TestConstantFolding(t *testing.T) {
	cases := []struct {
		src  string
		want float64
	}{
		{"-2^2", -4},
		{"(-2)^2", 4},
		{"2^3^2", 512},
		{"2*3^2", 18},
		{"1 - 2 - 3", -4},
		{"8/4/2", 1},
		{"2^-2", 0.25},
		{"pi", math.Pi},
		{"e", math.E},
		{"exp(1)", math.E},
		{"min(3, 1, 2)", 1},
		{"1 < 2 ? 5 : 6", 5},
		{"0*x", 0}, // simplified, see the package documentation
		{"x^0", 1},
		{"1^x", 1},
		{"0/x", 0},
		{"abs(x) >= 0 ? 1 : 1", 1},
		{"let a = 2; let b = a*a; b^a", 16},
	}
	for _, c := range cases {
		e, err := Compile(c.src, xyt)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		if !e.IsConstant() {
			t.Errorf("%q: not constant, simplified to %q", c.src, e)
			continue
		}
		if got := e.Value(); got != c.want {
			t.Errorf("%q: Value() = %v, want %v", c.src, got, c.want)
		}
		if got := e.Eval([]float64{1, 2, 3}); got != c.want {
			t.Errorf("%q: Eval = %v, want %v", c.src, got, c.want)
		}
		if len(e.Vars()) != 0 {
			t.Errorf("%q: Vars() = %v, want none", c.src, e.Vars())
		}
	}
}

func TestString(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{"-x^2", "-x^2"},
		{"(-x)^2", "(-x)^2"},
		{"-(x^2)", "-x^2"},
		{"x^y^t", "x^y^t"},
		{"(x^y)^t", "(x^y)^t"},
		{"x - (y - t)", "x - (y - t)"},
		{"(x - y) - t", "x - y - t"},
		{"x / (y * t)", "x/(y*t)"},
		{"x*y/t", "x*y/t"},
		{"2^(-x)", "2^(-x)"},
		{"-(x*y)", "-(x*y)"},
		{"-x*y", "-(x*y)"},
		{"(-2)^x", "(-2)^x"},
		{"x + -y", "x - y"},
		{"x - -y", "x + y"},
		{"-(x - y)", "y - x"},
		{"x*1 + 0", "x"},
		{"(x < y) < t", "(x < y) < t"},
		{"x < y == (y < t)", "(x < y) == (y < t)"},
		{"x > 0 ? (y > 0 ? 1 : 2) : 3", "x > 0 ? (y > 0 ? 1 : 2) : 3"},
		{"(x > 0 ? 1 : 2) + y", "(x > 0 ? 1 : 2) + y"},
		{"x || y && t", "x || y && t"},
		{"(x || y) && t", "(x || y) && t"},
		{"!(x && y)", "!(x && y)"},
		{"1e-7*x + 1e300", "1e-07*x + 1e+300"},
		{"1/0 + x", "(1/0) + x"},
		{"x + 0/0", "x + (0/0)"},
		{"min(x, y, t)", "min(min(x, y), t)"},
		{"e^x + pi", "exp(x) + 3.141592653589793"},
		{"let r = x + y; r*r", "(x + y)*(x + y)"},
		{"0.5*(1 + x^2) - x*y + exp(-y)", "0.5*(1 + x^2) - x*y + exp(-y)"},
	}
	for _, c := range cases {
		e, err := Compile(c.src, xyt)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		got := e.String()
		if got != c.want {
			t.Errorf("%q: String() = %q, want %q", c.src, got, c.want)
		}
		// The printed form must compile to the same function.
		r, err := Compile(got, xyt)
		if err != nil {
			t.Errorf("Compile(%q) (printed from %q): %v", got, c.src, err)
			continue
		}
		if r.String() != got {
			t.Errorf("%q: String() not idempotent: %q then %q", c.src, got, r.String())
		}
		for _, p := range testPoints() {
			if a, b := e.Eval(p), r.Eval(p); !same(a, b) {
				t.Errorf("%q and its printed form %q differ at %v: %v != %v", c.src, got, p, a, b)
				break
			}
		}
	}
}

// TestShadowing checks that declared variables shadow the constants pi
// and e, and that function names can be variables.
func TestShadowing(t *testing.T) {
	e := MustCompile("e*pi + e^2 + exp(exp)", []string{"e", "exp"})
	if got, want := e.Eval([]float64{2, 0.5}), 2*math.Pi+4+math.Exp(0.5); got != want {
		t.Errorf("shadowed e: got %v, want %v", got, want)
	}
	if !e.Uses("e") || !e.Uses("exp") || e.Uses("pi") {
		t.Errorf("Uses: e %v, exp %v, pi %v", e.Uses("e"), e.Uses("exp"), e.Uses("pi"))
	}
	l := MustCompile("let x = 2*x; let pi = 3; x + pi", []string{"x"})
	if got := l.Eval([]float64{1}); got != 5 {
		t.Errorf("let shadowing: got %v, want 5", got)
	}
}

func TestUses(t *testing.T) {
	vars := []string{"x", "y", "t", "D", "k"}
	cases := []struct {
		src  string
		want []string
	}{
		{"-k*x + y", []string{"x", "y", "k"}},
		{"D*(1 + 0*t)", []string{"D"}},
		{"x*y + t - t", []string{"x", "y", "t"}}, // t - t is not simplified
		{"3", nil},
		{"k > 0 ? x : x", []string{"x", "k"}},
	}
	for _, c := range cases {
		e := MustCompile(c.src, vars)
		if got := e.Vars(); !slices.Equal(got, c.want) {
			t.Errorf("%q: Vars() = %v, want %v", c.src, got, c.want)
		}
		for _, v := range vars {
			if got, want := e.Uses(v), slices.Contains(c.want, v); got != want {
				t.Errorf("%q: Uses(%q) = %v, want %v", c.src, v, got, want)
			}
		}
		if e.Uses("nosuch") {
			t.Errorf("%q: Uses(nosuch) = true", c.src)
		}
		if e.NumVars() != len(vars) {
			t.Errorf("%q: NumVars() = %d, want %d", c.src, e.NumVars(), len(vars))
		}
		if got, want := e.IsConstant(), len(c.want) == 0; got != want {
			t.Errorf("%q: IsConstant() = %v, want %v", c.src, got, want)
		}
	}
}

func TestBind(t *testing.T) {
	vars := []string{"x", "t", "sigma", "k"}
	e := MustCompile("sigma^2*(1 + x^2) + k*t", vars)
	b, err := e.Bind(map[string]float64{"sigma": 0, "k": 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "2*t"; got != want {
		t.Errorf("Bind: String() = %q, want %q", got, want)
	}
	if b.Uses("x") || b.Uses("sigma") || !b.Uses("t") || b.NumVars() != 4 {
		t.Errorf("Bind: Vars() = %v, NumVars() = %d", b.Vars(), b.NumVars())
	}
	// Binding gives the function of the remaining variables, bit for bit
	// the same as passing the values (here no simplification applies).
	d := MustCompile("exp(-k*x)*sigma + t", vars)
	bd, err := d.Bind(map[string]float64{"k": 1.5, "sigma": 0.3})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range testPoints() {
		v := []float64{p[0], p[2], 0.3, 1.5}
		if a, b := d.Eval(v), bd.Eval(v); !same(a, b) {
			t.Errorf("Bind at %v: %v != %v", v, b, a)
		}
	}
	c, err := MustCompile("sigma*x", vars).Bind(map[string]float64{"sigma": 2, "x": 3})
	if err != nil || !c.IsConstant() || c.Value() != 6 {
		t.Errorf("Bind all: %v, %v", c, err)
	}
	if _, err := e.Bind(map[string]float64{"nosuch": 1}); err == nil {
		t.Error("Bind of unknown variable: no error")
	}
}

func TestValuePanics(t *testing.T) {
	e := MustCompile("x", xyt)
	defer func() {
		if recover() == nil {
			t.Error("Value of non-constant did not panic")
		}
	}()
	e.Value()
}

func TestEvalPanics(t *testing.T) {
	e := MustCompile("x + y", xyt)
	for _, v := range [][]float64{nil, {1, 2}, {1, 2, 3, 4}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Eval(%v) did not panic", v)
				}
			}()
			e.Eval(v)
		}()
	}
}

// TestNaN checks the documented NaN semantics: comparisons are false,
// logical operators, conditions, sign and heaviside propagate NaN, both at
// run time and when folding constants.
func TestNaN(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		src  string
		want float64
	}{
		{"x < 1", 0}, {"x >= 1", 0}, {"x == x", 0}, {"x != x", 1},
		{"!x", nan}, {"x && 1", nan}, {"1 && x", nan}, {"x || 0", nan}, {"0 || x", nan},
		{"x ? 1 : 2", nan}, {"sign(x)", nan}, {"heaviside(x)", nan}, {"min(x, 1)", nan}, {"max(1, x)", nan},
		{"x^0", 1}, {"1^x", 1},
	}
	for _, c := range cases {
		e := MustCompile(c.src, []string{"x"})
		if got := e.Eval([]float64{nan}); !same(got, c.want) {
			t.Errorf("%q at NaN = %v, want %v", c.src, got, c.want)
		}
		// The same with x folded as a constant.
		b, err := e.Bind(map[string]float64{"x": nan})
		if err != nil {
			t.Fatal(err)
		}
		if !b.IsConstant() || !same(b.Value(), c.want) {
			t.Errorf("%q folded at NaN = %v, want %v", c.src, b, c.want)
		}
	}
	for _, c := range []struct {
		src  string
		want float64
	}{{"!0", 1}, {"!2", 0}, {"2 && 0", 0}, {"2 && -1", 1}, {"0 || 0", 0}, {"0 || 3", 1}, {"sign(-0.0) == 0", 1}} {
		if got := MustCompile(c.src, nil).Value(); got != c.want {
			t.Errorf("%q = %v, want %v", c.src, got, c.want)
		}
	}
}
