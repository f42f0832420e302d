package expression

import "math"

// opcode identifies an operation of the expression tree.
type opcode uint8

const (
	opConst opcode = iota
	opVar

	// Unary operations.
	opNeg
	opNot
	opExp
	opExpm1
	opLog
	opLog10
	opLog2
	opLog1p
	opSqrt
	opCbrt
	opAbs
	opSin
	opCos
	opTan
	opAsin
	opAcos
	opAtan
	opSinh
	opCosh
	opTanh
	opAsinh
	opAcosh
	opAtanh
	opErf
	opErfc
	opFloor
	opCeil
	opTrunc
	opRound
	opSign
	opHeaviside

	// Binary operations.
	opAdd
	opSub
	opMul
	opDiv
	opMod
	opPow
	opAtan2
	opHypot
	opMin
	opMax
	opLT
	opLE
	opGT
	opGE
	opEQ
	opNE
	opAnd
	opOr

	// Ternary operation c ? a : b.
	opCond

	numOps
)

// Printing precedences. They mirror expr-lang's binding powers, so that
// String's output parses back into the same tree.
const (
	precCond  = 0
	precOr    = 10
	precAnd   = 15
	precCmp   = 20
	precAdd   = 30
	precMul   = 60
	precUnary = 90
	precPow   = 100
	precAtom  = 1000
)

// opInfo describes one operation.
type opInfo struct {
	name  string // function name, or operator symbol as printed
	arity int
	infix bool // printed as an operator rather than as a call
	prec  int  // printing precedence of infix and prefix operators

	// Exactly one of f1, f2, f3 is set for arity 1, 2, 3. They are the
	// only definition of each operation's arithmetic: constant folding, Eval
	// and EvalBatch all call them (or inline the identical one-operation
	// expression), which is what makes the three agree bit for bit.
	f1 func(float64) float64
	f2 func(a, b float64) float64
	f3 func(a, b, c float64) float64
}

var ops [numOps]opInfo

func init() {
	un := func(op opcode, name string, f func(float64) float64) {
		ops[op] = opInfo{name: name, arity: 1, prec: precAtom, f1: f}
	}
	bin := func(op opcode, name string, f func(a, b float64) float64) {
		ops[op] = opInfo{name: name, arity: 2, prec: precAtom, f2: f}
	}
	infix := func(op opcode, sym string, prec int, f func(a, b float64) float64) {
		ops[op] = opInfo{name: sym, arity: 2, infix: true, prec: prec, f2: f}
	}

	ops[opConst] = opInfo{name: "const", prec: precAtom}
	ops[opVar] = opInfo{name: "var", prec: precAtom}

	ops[opNeg] = opInfo{name: "-", arity: 1, infix: true, prec: precUnary, f1: fNeg}
	ops[opNot] = opInfo{name: "!", arity: 1, infix: true, prec: precUnary, f1: fNot}
	un(opExp, "exp", math.Exp)
	un(opExpm1, "expm1", math.Expm1)
	un(opLog, "log", math.Log)
	un(opLog10, "log10", math.Log10)
	un(opLog2, "log2", math.Log2)
	un(opLog1p, "log1p", math.Log1p)
	un(opSqrt, "sqrt", math.Sqrt)
	un(opCbrt, "cbrt", math.Cbrt)
	un(opAbs, "abs", math.Abs)
	un(opSin, "sin", math.Sin)
	un(opCos, "cos", math.Cos)
	un(opTan, "tan", math.Tan)
	un(opAsin, "asin", math.Asin)
	un(opAcos, "acos", math.Acos)
	un(opAtan, "atan", math.Atan)
	un(opSinh, "sinh", math.Sinh)
	un(opCosh, "cosh", math.Cosh)
	un(opTanh, "tanh", math.Tanh)
	un(opAsinh, "asinh", math.Asinh)
	un(opAcosh, "acosh", math.Acosh)
	un(opAtanh, "atanh", math.Atanh)
	un(opErf, "erf", math.Erf)
	un(opErfc, "erfc", math.Erfc)
	un(opFloor, "floor", math.Floor)
	un(opCeil, "ceil", math.Ceil)
	un(opTrunc, "trunc", math.Trunc)
	un(opRound, "round", math.Round)
	un(opSign, "sign", fSign)
	un(opHeaviside, "heaviside", fHeaviside)

	infix(opAdd, "+", precAdd, fAdd)
	infix(opSub, "-", precAdd, fSub)
	infix(opMul, "*", precMul, fMul)
	infix(opDiv, "/", precMul, fDiv)
	infix(opMod, "%", precMul, math.Mod)
	infix(opPow, "^", precPow, fPow)
	bin(opAtan2, "atan2", math.Atan2)
	bin(opHypot, "hypot", math.Hypot)
	bin(opMin, "min", fMin)
	bin(opMax, "max", fMax)
	infix(opLT, "<", precCmp, fLT)
	infix(opLE, "<=", precCmp, fLE)
	infix(opGT, ">", precCmp, fGT)
	infix(opGE, ">=", precCmp, fGE)
	infix(opEQ, "==", precCmp, fEQ)
	infix(opNE, "!=", precCmp, fNE)
	infix(opAnd, "&&", precAnd, fAnd)
	infix(opOr, "||", precOr, fOr)

	ops[opCond] = opInfo{name: "?:", arity: 3, infix: true, prec: precCond, f3: fCond}
}

// funcDef is an entry of the table of functions callable by name.
type funcDef struct {
	op   opcode
	nary bool // min and max: two or more arguments, folded left
}

// funcs maps the names usable in call syntax to operations.
var funcs = map[string]funcDef{
	"exp":       {op: opExp},
	"expm1":     {op: opExpm1},
	"log":       {op: opLog},
	"ln":        {op: opLog},
	"log10":     {op: opLog10},
	"log2":      {op: opLog2},
	"log1p":     {op: opLog1p},
	"sqrt":      {op: opSqrt},
	"cbrt":      {op: opCbrt},
	"abs":       {op: opAbs},
	"sin":       {op: opSin},
	"cos":       {op: opCos},
	"tan":       {op: opTan},
	"asin":      {op: opAsin},
	"acos":      {op: opAcos},
	"atan":      {op: opAtan},
	"sinh":      {op: opSinh},
	"cosh":      {op: opCosh},
	"tanh":      {op: opTanh},
	"asinh":     {op: opAsinh},
	"acosh":     {op: opAcosh},
	"atanh":     {op: opAtanh},
	"erf":       {op: opErf},
	"erfc":      {op: opErfc},
	"floor":     {op: opFloor},
	"ceil":      {op: opCeil},
	"trunc":     {op: opTrunc},
	"round":     {op: opRound},
	"sign":      {op: opSign},
	"heaviside": {op: opHeaviside},
	"atan2":     {op: opAtan2},
	"hypot":     {op: opHypot},
	"pow":       {op: opPow},
	"mod":       {op: opMod},
	"min":       {op: opMin, nary: true},
	"max":       {op: opMax, nary: true},
}

// constants are the named constants. Declared variables shadow them.
var constants = map[string]float64{
	"pi": math.Pi,
	"e":  math.E,
}

// maxPowi bounds the integer exponents evaluated by repeated squaring.
// Repeated squaring of x^n makes at most about log2(n) + popcount(n)
// roundings, each relative error compounding through the squarings; for
// |n| <= 64 the error stays within a few tens of ulps in the worst case and
// is typically 1-2 ulps, the same algorithm math.Pow itself uses for
// integer exponents.
const maxPowi = 64

func fNeg(x float64) float64    { return -x }
func fAdd(a, b float64) float64 { return a + b }
func fSub(a, b float64) float64 { return a - b }
func fMul(a, b float64) float64 { return a * b }
func fDiv(a, b float64) float64 { return a / b }
func fMin(a, b float64) float64 { return min(a, b) }
func fMax(a, b float64) float64 { return max(a, b) }

// fPow is a^b. Integer exponents up to maxPowi in magnitude use repeated
// squaring (much faster than math.Pow, and exact for b = 2); everything else
// is math.Pow. Both agree on all special values (±0, ±Inf, NaN).
func fPow(a, b float64) float64 {
	if b == math.Trunc(b) && math.Abs(b) <= maxPowi {
		return powi(a, int(b))
	}
	return math.Pow(a, b)
}

// powi returns x^n for |n| <= maxPowi by repeated squaring.
//
// For n < 0 it returns 1/x^|n|; when x^|n| overflows or underflows the
// result is 0 or ±Inf, where math.Pow could still return a subnormal or a
// number close to MaxFloat64.
func powi(x float64, n int) float64 {
	if n < 0 {
		return 1 / powi(x, -n)
	}
	r := 1.0
	for {
		if n&1 != 0 {
			r *= x
		}
		n >>= 1
		if n == 0 {
			return r
		}
		x *= x
	}
}

// fSign returns 1 for x > 0, -1 for x < 0, and x itself for ±0 and NaN.
func fSign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x
}

// fHeaviside returns 0 for x < 0, 1/2 for x = 0, 1 for x > 0 and NaN for NaN.
func fHeaviside(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return 0
	case x == 0:
		return 0.5
	}
	return x
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func fLT(a, b float64) float64 { return b2f(a < b) }
func fLE(a, b float64) float64 { return b2f(a <= b) }
func fGT(a, b float64) float64 { return b2f(a > b) }
func fGE(a, b float64) float64 { return b2f(a >= b) }
func fEQ(a, b float64) float64 { return b2f(a == b) }
func fNE(a, b float64) float64 { return b2f(a != b) }

// fNot, fAnd, fOr treat nonzero as true and propagate NaN.
func fNot(x float64) float64 {
	if x != x {
		return x
	}
	return b2f(x == 0)
}

func fAnd(a, b float64) float64 {
	switch {
	case a != a:
		return a
	case b != b:
		return b
	}
	return b2f(a != 0 && b != 0)
}

func fOr(a, b float64) float64 {
	switch {
	case a != a:
		return a
	case b != b:
		return b
	}
	return b2f(a != 0 || b != 0)
}

// fCond is c ? a : b, with nonzero c true; a NaN condition gives NaN.
func fCond(c, a, b float64) float64 {
	if c != c {
		return c
	}
	if c != 0 {
		return a
	}
	return b
}
