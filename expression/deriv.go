package expression

import "math"

// Shorthands for the simplifying constructors.
func add(a, b *node) *node          { return mk2(opAdd, a, b) }
func sub(a, b *node) *node          { return mk2(opSub, a, b) }
func mul(a, b *node) *node          { return mk2(opMul, a, b) }
func div(a, b *node) *node          { return mk2(opDiv, a, b) }
func pow(a, b *node) *node          { return mk2(opPow, a, b) }
func neg(a *node) *node             { return mk1(opNeg, a) }
func call(op opcode, a *node) *node { return mk1(op, a) }
func sq(a *node) *node              { return pow(a, cnst(2)) }

// differ differentiates trees with respect to one variable slot. The memo
// makes the derivative of a DAG a DAG of proportional size: a shared
// subtree is differentiated once.
type differ struct {
	slot int
	memo map[*node]*node
}

// d returns the derivative of n, simplified.
func (df *differ) d(n *node) *node {
	if r, ok := df.memo[n]; ok {
		return r
	}
	r := df.rule(n)
	df.memo[n] = r
	return r
}

func (df *differ) rule(n *node) *node {
	switch n.op {
	case opConst:
		return cnst(0)
	case opVar:
		if n.slot == df.slot {
			return cnst(1)
		}
		return cnst(0)
	}
	a := n.a
	switch ops[n.op].arity {
	case 1:
		da := df.d(a)
		if da.isZero() {
			return da
		}
		return df.unary(n, a, da)
	case 3: // c ? a : b; the condition is piecewise constant.
		return mkCond(n.a, df.d(n.b), df.d(n.c))
	}
	b := n.b
	da, db := df.d(a), df.d(b)
	if da.isZero() && db.isZero() {
		return da
	}
	switch n.op {
	case opAdd:
		return add(da, db)
	case opSub:
		return sub(da, db)
	case opMul:
		return add(mul(da, b), mul(a, db))
	case opDiv:
		switch {
		case db.isZero():
			return div(da, b)
		case da.isZero():
			return neg(div(mul(a, db), sq(b)))
		}
		return div(sub(mul(da, b), mul(a, db)), sq(b))
	case opMod: // a mod b = a - trunc(a/b)*b
		return sub(da, mul(call(opTrunc, div(a, b)), db))
	case opPow:
		switch {
		case b.isConst(): // n a^(n-1) a', also for a < 0 when n is an integer
			return mul(mul(b, pow(a, cnst(b.val-1))), da)
		case db.isZero():
			return mul(mul(b, pow(a, sub(b, cnst(1)))), da)
		case da.isZero(): // a^b log(a) b'
			return mul(mul(n, call(opLog, a)), db)
		}
		// a^b (b' log a + b a'/a)
		return mul(n, add(mul(db, call(opLog, a)), div(mul(b, da), a)))
	case opAtan2: // atan2(y, x)' = (x y' - y x')/(x^2 + y^2)
		return div(sub(mul(b, da), mul(a, db)), add(sq(b), sq(a)))
	case opHypot: // (a a' + b b')/hypot(a, b)
		return div(add(mul(a, da), mul(b, db)), n)
	case opMin:
		return mkCond(mk2(opLE, a, b), da, db)
	case opMax:
		return mkCond(mk2(opGE, a, b), da, db)
	}
	// Comparisons and logical operators are piecewise constant.
	return cnst(0)
}

// twoOverSqrtPi is 2/√π, the factor in erf' = 2/√π exp(-x²).
const twoOverSqrtPi = 2 / math.SqrtPi

// unary returns the derivative of n = op(a), given da = a' ≠ 0.
func (df *differ) unary(n, a, da *node) *node {
	one := cnst(1)
	switch n.op {
	case opNeg:
		return neg(da)
	case opExp:
		return mul(n, da)
	case opExpm1:
		return mul(call(opExp, a), da)
	case opLog:
		return div(da, a)
	case opLog10:
		return div(da, mul(cnst(math.Ln10), a))
	case opLog2:
		return div(da, mul(cnst(math.Ln2), a))
	case opLog1p:
		return div(da, add(one, a))
	case opSqrt:
		return div(da, mul(cnst(2), n))
	case opCbrt:
		return div(da, mul(cnst(3), sq(n)))
	case opAbs:
		return mul(call(opSign, a), da)
	case opSin:
		return mul(call(opCos, a), da)
	case opCos:
		return neg(mul(call(opSin, a), da))
	case opTan:
		return mul(add(one, sq(n)), da)
	case opAsin:
		return div(da, call(opSqrt, sub(one, sq(a))))
	case opAcos:
		return neg(div(da, call(opSqrt, sub(one, sq(a)))))
	case opAtan:
		return div(da, add(one, sq(a)))
	case opSinh:
		return mul(call(opCosh, a), da)
	case opCosh:
		return mul(call(opSinh, a), da)
	case opTanh:
		return mul(sub(one, sq(n)), da)
	case opAsinh:
		return div(da, call(opSqrt, add(sq(a), one)))
	case opAcosh:
		return div(da, call(opSqrt, sub(sq(a), one)))
	case opAtanh:
		return div(da, sub(one, sq(a)))
	case opErf:
		return mul(mul(cnst(twoOverSqrtPi), call(opExp, neg(sq(a)))), da)
	case opErfc:
		return mul(mul(cnst(-twoOverSqrtPi), call(opExp, neg(sq(a)))), da)
	}
	// not, floor, ceil, trunc, round, sign, heaviside: piecewise constant.
	return cnst(0)
}
