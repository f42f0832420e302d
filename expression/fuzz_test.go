package expression

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds are good and bad expressions; plain go test runs them all.
var fuzzSeeds = []string{
	"-x + y", "0.5*(1+y^2)", "(x^2-1)^2 + y^2/2", "0.5*(x*t*y - 1)^2",
	"exp(-((x-1.5)^2 + y^2)/0.1)", "-x^2", "2^-x^2", "x^y^t", "x ** 2 % 3",
	"x > 0 ? sqrt(x) : -y", "if x > y { 1 } else { t }", "0 < x < 1 && y >= 0 || !t",
	"let r = hypot(x, y); exp(-r)*sin(3*r)/r", "min(x, y, t, 1)", "max(x, -1)",
	"atan2(y, x) + erf(x) + erfc(y) + sign(x) + heaviside(y) + floor(x) + ceil(y)",
	"log(x) + log10(y) + log2(t) + log1p(x) + expm1(y) + cbrt(t) + abs(x)",
	"asin(x) + acos(y) + atan(t) + sinh(x) + cosh(y) + tanh(t) + asinh(x) + acosh(y) + atanh(t)",
	"round(x) + trunc(y) + mod(x, y) + pow(x, t) + hypot(x, t) + ln(x)",
	"e^x + pi*e", "1e308*10*x", "0x1F + 0b11 + 0o7 + 1_0.5e-3", "1/0 - x", "0/0*x", "-0*x",
	"x /* c */ + y // d", "true ? x : false", "x?:y", "x ?: y",
	// Bad input.
	"", " ", "(", ")", "x +", "+", "x y", "2x", "exp(", "exp(x, y)", "min(x)", "foo(x)", "z",
	"x.y", "x?.y", "x[0]", "x[1:2]", "'s'", "\"s\"", "`s`", "b'x'", "[x]", "{a: x}", "nil",
	"x in [1]", "x ?? y", "x | exp()", "x | foo()", "x..y", "1..2", "let x = ; x", "let = 1; x",
	"x; y", "#x", ".x", "map(x, #)", "sum(x)", "len(x)", "x matches y", "not", "x not in y",
	"if x { y }", "x ? y", "\x00", "\xff", "é", "x\n+\ny", "((((((x))))))", "-------x",
	"x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x^x",
	"99999999999999999999", "1e999", "0x", "1e", "1.2.3", "$env", "$x", "_", "x_1",
}

var fuzzVars = []string{"x", "y", "t"}

func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src, fuzzVars)
		if err != nil {
			var ee *Error
			if !errors.As(err, &ee) {
				t.Fatalf("Compile(%q): error %T, want *Error", src, err)
			}
			_ = err.Error()
			return
		}
		checkExpr(t, src, e, true)
		for _, v := range fuzzVars {
			d, err := e.Derivative(v)
			if err != nil {
				continue // too large
			}
			checkExpr(t, src, d, false)
		}
	})
}

// checkExpr checks the invariants of a compiled expression: EvalBatch
// agrees with Eval bit for bit, unused variables do not matter, and, if
// roundTrip, String compiles back to the same function.
func checkExpr(t *testing.T, src string, e *Expr, roundTrip bool) {
	t.Helper()
	pts := [][]float64{{0, 0, 0}, {-1.5, 2, 0.25}, {3, -0.5, 1}, {1e300, -1e-300, 7}}
	vals := make([]float64, len(pts))
	for i, p := range pts {
		vals[i] = e.Eval(p)
	}
	cols := [][]float64{make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))}
	for i, p := range pts {
		for k := range p {
			cols[k][i] = p[k]
		}
	}
	dst := make([]float64, len(pts))
	e.EvalBatch(dst, cols)
	for i := range dst {
		if !same(dst[i], vals[i]) {
			t.Fatalf("%q (%s) at %v: EvalBatch %v, Eval %v", src, e, pts[i], dst[i], vals[i])
		}
	}
	cols[2] = []float64{pts[1][2]} // broadcast t
	e.EvalBatch(dst, cols)
	for i := range dst {
		want := e.Eval([]float64{pts[i][0], pts[i][1], pts[1][2]})
		if !same(dst[i], want) {
			t.Fatalf("%q (%s) at point %d, scalar t: EvalBatch %v, Eval %v", src, e, i, dst[i], want)
		}
	}
	for k, name := range fuzzVars {
		if e.Uses(name) {
			continue
		}
		p := append([]float64(nil), pts[1]...)
		p[k] = 42
		if got := e.Eval(p); !same(got, vals[1]) {
			t.Fatalf("%q (%s) does not use %s but changes with it: %v != %v", src, e, name, got, vals[1])
		}
	}
	if !roundTrip {
		return
	}
	s := e.String()
	r, err := Compile(s, fuzzVars)
	if err != nil {
		// Printing expands let-bindings and n-ary min and max, and spells
		// constants out, which can exceed the limits.
		if m := err.Error(); strings.Contains(m, "nested more than") || strings.Contains(m, "bytes long") || strings.Contains(m, "once expanded") {
			return
		}
		t.Fatalf("%q printed as %q, which does not compile: %v", src, s, err)
	}
	if r.String() != s {
		t.Fatalf("%q printed as %q, then as %q", src, s, r.String())
	}
	for i, p := range pts {
		if got := r.Eval(p); !same(got, vals[i]) {
			t.Fatalf("%q printed as %q: %v != %v at %v", src, s, got, vals[i], p)
		}
	}
}
