// Package expression compiles arithmetic expressions written by users, such
// as the drift "-x + y" or the diffusion "0.5*(1 + y^2)" of a model spec,
// into functions of float64 variables that are fast, allocation-free and
// safe for concurrent use, and differentiates them symbolically.
//
//	e, err := expression.Compile("(x^2 - 1)^2 + y^2/2", []string{"x", "y"})
//	v := e.Eval([]float64{0.5, 1})         // one point
//	e.EvalBatch(dst, [][]float64{xs, ys})  // many points
//	dx, err := e.Derivative("x")           // 2*(x^2 - 1)*(2*x)
//
// Expressions are parsed by github.com/expr-lang/expr/parser and compiled
// into this package's own representation; expr-lang's compiler and virtual
// machine are not used.
//
// # Syntax
//
// Numbers are decimal (2, 0.5, .5, 1e-3, 1_000) or 0x, 0o, 0b integers.
// Operators, from loosest to tightest binding:
//
//	c ? a : b            conditional (also: if c { a } else { b })
//	||  or               logical or
//	&&  and              logical and
//	< <= > >= == !=      comparisons; 0 < x < 1 means 0 < x && x < 1
//	+ -                  addition, subtraction
//	* / %                multiplication, division, remainder (math.Mod)
//	- + ! not            unary minus, plus, logical not
//	^ **                 power, right-associative: 2^3^2 = 2^9
//
// As in mathematics, unary minus binds less tightly than power: -x^2 is
// -(x^2), and 2^-x^2 is 2^(-(x^2)). This is expr-lang's own precedence, so
// the compiler needs no fix-up; tests pin it down.
//
// Comparisons and logical operators give 1 for true and 0 for false;
// logical operators and conditions take any nonzero value as true. Both
// branches of a conditional are evaluated (there are no side effects to
// avoid, and batch evaluation needs both); a NaN condition gives NaN, and
// comparisons with NaN are false, as in IEEE 754.
//
// Local definitions are written with let, as in
// "let r2 = x^2 + y^2; exp(-r2/2)". They are substituted into the
// expression, not computed once. Comments // … and /* … */ are allowed.
//
// # Functions
//
//	exp expm1 log (also ln) log10 log2 log1p sqrt cbrt abs
//	sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh
//	erf erfc floor ceil trunc round sign heaviside
//	atan2(y, x) hypot(x, y) pow(x, y) mod(x, y)
//	min(a, b, …) max(a, b, …)   two or more arguments
//
// Each is the math package function of the same name, except
// sign(x) ∈ {-1, 0, 1} (±0 and NaN give themselves), heaviside(x) = 0 for
// x < 0, 1/2 at 0 and 1 for x > 0, and min and max, which are Go's builtins
// (NaN if any argument is NaN). Powers with an integer constant exponent
// up to 64 in magnitude, x^2 above all, are computed by repeated
// multiplication, the other powers by math.Pow, so that x^n is fast and
// correct for negative x.
//
// # Variables and constants
//
// The variables are named, in order, when an expression is compiled; Eval
// takes their values in that order. They are typically the grid axes
// (any names: x, y, theta, …), t, named parameters and data columns. The
// constants pi and e are predefined; a variable named pi or e shadows the
// constant, so that an axis can be called e (the constant e is then exp(1)).
// Names are letters, digits and underscores, not starting with a digit, and
// not one of expr-lang's keywords (and, or, not, in, let, if, else, true,
// false, nil, matches, contains, startsWith, endsWith).
//
// Compilation folds constant subexpressions and applies exact
// simplifications (x*1, x+0, --x, e^x → exp(x), …), together with 0*x = 0
// and 0/x = 0, which ignore that x could be infinite or NaN. Uses, Vars and
// IsConstant report on the simplified expression, and Bind substitutes
// parameter values and simplifies again, so that a diffusion "s^2*(1+x^2)"
// bound with s = 0 is recognised as the constant 0.
//
// # Concurrency
//
// An *Expr is immutable: Eval, EvalBatch, Derivative, Bind and the other
// methods may be called from any number of goroutines at once. Eval keeps
// its temporaries on the goroutine's stack; EvalBatch takes scratch space
// from a sync.Pool owned by the expression, so it does not allocate in the
// steady state either.
//
// # Evaluation
//
// Eval runs a tree of closures specialised on the operand kinds, costing
// about a nanosecond or two per operation beyond the cost of the math
// functions called. EvalBatch runs a register program over chunks of 256
// points, one operation at a time, so that the interpretation cost is
// shared by the chunk; operations whose operands are all broadcast scalars
// (constants, t, parameters given as columns of length 1) are computed once
// per chunk. Both perform the same floating-point operations in the same
// order and agree bit for bit.
//
// # Derivatives
//
// Derivative differentiates symbolically and simplifies the result. Every
// function has a derivative:
//
//	abs(a)'    = sign(a) a'
//	min(a, b)' = a <= b ? a' : b'      max(a, b)' = a >= b ? a' : b'
//	(c ? a : b)' = c ? a' : b'
//	erf(a)'    = 2/√π exp(-a²) a'
//	(a % b)'   = a' - trunc(a/b) b'
//	(a^n)'     = n a^(n-1) a'          n constant, or independent of the variable
//	(c^b)'     = c^b log(c) b'         c constant
//	(a^b)'     = a^b (b' log(a) + b a'/a)  otherwise
//
// The form n a^(n-1) a' is used whenever the exponent does not depend on
// the variable, so the derivative of x^3 is valid for negative x. floor,
// ceil, trunc, round, sign, heaviside, comparisons and logical operators
// are piecewise constant and have derivative 0 (their Dirac parts are
// dropped); the derivative of a piecewise function at a breakpoint is that
// of the piece selected there.
//
// # Limits
//
// Compile refuses, with an *Error, expressions longer than MaxLength bytes,
// nested deeper than MaxDepth, or larger than MaxNodes once let-bindings
// are expanded; Derivative refuses results larger than MaxNodes. No input
// string makes Compile panic (FuzzCompile checks this).
//
// # Errors
//
// Errors in expressions are *Error values carrying the expression, the
// column of the offending token and a message. Their text, such as
//
//	unknown variable "z" at column 6 in "-x + z"
//
// is meant to be prefixed by the caller with where the expression came
// from, e.g. "model.drift[1]: ".
package expression
