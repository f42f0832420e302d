package expression

import (
	"math"
	"testing"
)

// TestDerivativeString checks the simplified form of derivatives.
func TestDerivativeString(t *testing.T) {
	cases := []struct {
		src, wrt, want string
	}{
		{"x^2", "x", "2*x"},
		{"x^3", "x", "3*x^2"},
		{"x^-1", "x", "-x^(-2)"},
		{"0.5*(1 + x^2)", "x", "x"},
		{"x*y", "x", "y"},
		{"x*y", "t", "0"},
		{"3*x + y", "x", "3"},
		{"sin(x)", "x", "cos(x)"},
		{"cos(x)", "x", "-sin(x)"},
		{"exp(x)", "x", "exp(x)"},
		{"exp(-x^2)", "x", "exp(-x^2)*(-2*x)"},
		{"log(x)", "x", "1/x"},
		{"abs(x)", "x", "sign(x)"},
		{"sqrt(x)", "x", "1/(2*sqrt(x))"},
		{"min(x, y)", "x", "x <= y ? 1 : 0"},
		{"max(x, y)", "y", "x >= y ? 0 : 1"},
		{"x > 0 ? x^2 : -x", "x", "x > 0 ? 2*x : -1"},
		{"x^y", "y", "x^y*log(x)"},
		{"x^y", "x", "y*x^(y - 1)"},
		{"2^x", "x", "0.6931471805599453*2^x"},
		{"floor(x) + sign(x) + heaviside(x) + (x > 1)", "x", "0"},
		{"x/y", "x", "1/y"},
		{"x/y", "y", "-(x/y^2)"},
		{"0.5*(a*b*x - y)^2", "a", "(a*b*x - y)*(b*x)"},
		{"3*x^2", "x", "6*x"},
		{"0.5*(x - 1)^2*y", "x", "(x - 1)*y"},
		{"x^3", "x,x", "6*x"},
	}
	vars := []string{"x", "y", "t", "a", "b"}
	for _, c := range cases {
		e := MustCompile(c.src, vars)
		d := e
		var err error
		wrt := c.wrt
		for _, w := range splitComma(wrt) {
			if d, err = d.Derivative(w); err != nil {
				t.Fatalf("%q: Derivative(%q): %v", c.src, w, err)
			}
		}
		if got := d.String(); got != c.want {
			t.Errorf("d/d%s %q = %q, want %q", c.wrt, c.src, got, c.want)
		}
	}
}

func splitComma(s string) []string {
	var r []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			r = append(r, s[start:i])
			start = i + 1
		}
	}
	return r
}

// TestDerivativeFormula checks derivatives against hand-derived formulas.
// The derivative performs the operations of the formula up to reordering
// of products, so the tolerance is a few rounding errors relative to the
// magnitude: 1e-14.
func TestDerivativeFormula(t *testing.T) {
	cases := []struct {
		src, wrt string
		f        func(x, y, t float64) float64
	}{
		// The integer-exponent rule holds for negative x.
		{"x^3", "x", func(x, y, t float64) float64 { return 3 * x * x }},
		{"x^-2", "x", func(x, y, t float64) float64 { return -2 / (x * x * x) }},
		{"(x - y)^4", "y", func(x, y, t float64) float64 { return -4 * math.Pow(x-y, 3) }},
		// General power, for x > 0.
		{"abs(x)^y", "x", func(x, y, t float64) float64 { return y * math.Pow(math.Abs(x), y-1) * sign(x) }},
		{"abs(x)^y", "y", func(x, y, t float64) float64 { return math.Pow(math.Abs(x), y) * math.Log(math.Abs(x)) }},
		{"(abs(x) + 1)^(x*y)", "x", func(x, y, t float64) float64 {
			a := math.Abs(x) + 1
			return math.Pow(a, x*y) * (y*math.Log(a) + x*y*sign(x)/a)
		}},
		{"pow(2, y)", "y", func(x, y, t float64) float64 { return math.Pow(2, y) * math.Ln2 }},
		// SGD loss: d/da 0.5 (a b x - y)^2 with b = t here.
		{"0.5*(x*t*y - 1)^2", "x", func(x, y, t float64) float64 { return (x*t*y - 1) * t * y }},
		{"erf(x*y)", "x", func(x, y, t float64) float64 { return 2 / math.SqrtPi * math.Exp(-x*x*y*y) * y }},
		{"atan2(y, x)", "x", func(x, y, t float64) float64 { return -y / (x*x + y*y) }},
		{"atan2(y, x)", "y", func(x, y, t float64) float64 { return x / (x*x + y*y) }},
		{"hypot(x, y)", "x", func(x, y, t float64) float64 { return x / math.Hypot(x, y) }},
		{"x % 0.7", "x", func(x, y, t float64) float64 { return 1 }},
		{"2.5 % x", "x", func(x, y, t float64) float64 { return -math.Trunc(2.5 / x) }},
		{"min(x, 2*y)", "y", func(x, y, t float64) float64 {
			if x <= 2*y {
				return 0
			}
			return 2
		}},
		{"exp(-((x-1.5)^2 + y^2)/0.1)", "x", func(x, y, t float64) float64 {
			return math.Exp(-((x-1.5)*(x-1.5)+y*y)/0.1) * (-2 * (x - 1.5) / 0.1)
		}},
	}
	for _, c := range cases {
		d, err := MustCompile(c.src, xyt).Derivative(c.wrt)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		for _, p := range testPoints() {
			if p[0] == 0 || math.Abs(p[0]) > 20 {
				continue // singular or overflowing for some cases
			}
			got, want := d.Eval(p), c.f(p[0], p[1], p[2])
			if math.Abs(got-want) > 1e-14*math.Max(1, math.Abs(want)) && !same(got, want) {
				t.Errorf("d/d%s %q at %v = %v, want %v (simplified: %s)", c.wrt, c.src, p, got, want, d)
				break
			}
		}
	}
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// TestDerivativeFiniteDifference checks the derivative of every function
// and operator against a central difference (f(x+h) - f(x-h))/(2h) with
// h = 1e-5 max(1, |x|). Its truncation error is h² f⁽³⁾/6 ≈ 2e-11 f⁽³⁾ and
// its rounding error about ε|f|/h ≈ 2e-11 |f| at these points, so a
// tolerance of 1e-6 (1 + |f'|) leaves a wide margin while still catching
// any wrong rule, whose error would be of order |f'|. Points are kept off
// the functions' singularities and breakpoints.
func TestDerivativeFiniteDifference(t *testing.T) {
	cases := []struct {
		src    string
		lo, hi float64 // range of x
	}{
		{"x + 2", -3, 3}, {"3 - x", -3, 3}, {"x*x*y", -3, 3}, {"y/x", 0.5, 3},
		{"x % 1.3", 0.1, 1.2}, {"2.5 % x", 0.9, 1.2}, {"x^y", 0.5, 3}, {"y^x", -2, 2},
		{"x^3", -2, 2}, {"x^-3", 0.5, 2}, {"x^2.5", 0.5, 2}, {"-x", -3, 3}, {"!x", 1, 2},
		{"exp(x)", -3, 3}, {"expm1(x)", -3, 3}, {"log(x)", 0.2, 5}, {"ln(x)", 0.2, 5},
		{"log10(x)", 0.2, 5}, {"log2(x)", 0.2, 5}, {"log1p(x)", -0.5, 5},
		{"sqrt(x)", 0.2, 5}, {"cbrt(x)", 0.2, 5}, {"abs(x)", -3, -0.1}, {"abs(x)", 0.1, 3},
		{"sin(x)", -3, 3}, {"cos(x)", -3, 3}, {"tan(x)", -1.2, 1.2},
		{"asin(x)", -0.9, 0.9}, {"acos(x)", -0.9, 0.9}, {"atan(x)", -3, 3},
		{"sinh(x)", -3, 3}, {"cosh(x)", -3, 3}, {"tanh(x)", -3, 3},
		{"asinh(x)", -3, 3}, {"acosh(x)", 1.2, 4}, {"atanh(x)", -0.9, 0.9},
		{"erf(x)", -3, 3}, {"erfc(x)", -3, 3},
		{"floor(x)", 0.1, 0.9}, {"ceil(x)", 0.1, 0.9}, {"trunc(x)", 0.1, 0.9}, {"round(x)", 0.1, 0.4},
		{"sign(x)", 0.1, 3}, {"heaviside(x)", 0.1, 3},
		{"atan2(x, y)", -3, 3}, {"atan2(y, x)", -3, 3}, {"hypot(x, y)", -3, 3}, {"pow(x, 3)", -2, 2},
		{"min(x, 0.5)", -3, 0.4}, {"min(x, 0.5)", 0.6, 3}, {"max(x, 0.5)", -3, 0.4}, {"max(x, 0.5)", 0.6, 3},
		{"x < 0.5 ? x^2 : sin(x)", -3, 0.4}, {"x < 0.5 ? x^2 : sin(x)", 0.6, 3},
		{"(x < y) + (x > y) + (x == y) + (x != y) + (x <= y) + (x >= y) + (x && y) + (x || y)", 0.1, 0.5},
		{"exp(-((x-1.5)^2 + y^2)/0.1)", 1, 2},
		{"0.5*(x*t*y - 1)^2 + log(cosh(x*y))", -2, 2},
		{"let r = hypot(x, y); exp(-r)*sin(3*r)/r", 0.5, 3},
	}
	const n = 17
	for _, c := range cases {
		e := MustCompile(c.src, xyt)
		d, err := e.Derivative("x")
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		for i := range n {
			x := c.lo + (c.hi-c.lo)*float64(i)/(n-1)
			y, tt := 0.8, 0.3
			h := 1e-5 * math.Max(1, math.Abs(x))
			fd := (e.Eval([]float64{x + h, y, tt}) - e.Eval([]float64{x - h, y, tt})) / (2 * h)
			got := d.Eval([]float64{x, y, tt})
			if math.Abs(got-fd) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("d/dx %q at x=%v = %v, finite difference %v (simplified: %s)", c.src, x, got, fd, d)
				break
			}
		}
	}
}

// TestDerivativeOfEveryFunction makes sure the finite-difference test
// covers every function name.
func TestDerivativeOfEveryFunction(t *testing.T) {
	for name, f := range funcs {
		args := "(x)"
		if f.nary || ops[f.op].arity == 2 {
			args = "(x, y)"
		}
		e := MustCompile(name+args, xyt)
		if _, err := e.Derivative("x"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDerivativeErrors(t *testing.T) {
	e := MustCompile("x^2", xyt)
	if _, err := e.Derivative("z"); err == nil {
		t.Error("Derivative(z): no error")
	} else if got, want := err.Error(), `derivative with respect to unknown variable "z" in "x^2"`; got != want {
		t.Errorf("Derivative(z): %q, want %q", got, want)
	}
	// The product rule on a product of n factors gives a derivative of
	// size O(n²) once expanded.
	src := "x"
	for range 1500 {
		src += "*x"
	}
	p := MustCompile(src, xyt)
	if _, err := p.Derivative("x"); err == nil {
		t.Error("derivative of a 1500-factor product: no error")
	}
	// The derivative with respect to an unused variable is 0.
	if d, err := e.Derivative("t"); err != nil || !d.IsConstant() || d.Value() != 0 {
		t.Errorf("d/dt x^2 = %v, %v; want 0", d, err)
	}
}
