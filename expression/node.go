package expression

import "math"

// node is a vertex of an expression tree. Nodes are immutable once built and
// may be shared between trees (derivatives reuse subtrees of the function and
// let-bindings are shared), so a tree is in general a DAG.
type node struct {
	op      opcode
	slot    int     // variable slot, for opVar
	val     float64 // value, for opConst
	a, b, c *node   // operands; arity from ops[op].arity
}

func cnst(v float64) *node     { return &node{op: opConst, val: v} }
func variable(slot int) *node  { return &node{op: opVar, slot: slot} }
func (n *node) isConst() bool  { return n.op == opConst }
func (n *node) isZero() bool   { return n.op == opConst && n.val == 0 }
func (n *node) isOne() bool    { return n.op == opConst && n.val == 1 }
func (n *node) isMinus1() bool { return n.op == opConst && n.val == -1 }

// isNegative reports whether n is a negation or a negative constant.
func (n *node) isNegative() bool {
	return n.op == opNeg || (n.op == opConst && n.val < 0)
}

// negated returns -n for n with isNegative true, without a new negation.
func (n *node) negated() *node {
	if n.op == opNeg {
		return n.a
	}
	return cnst(-n.val)
}

// kids returns the operands of n.
func (n *node) kids() []*node {
	switch ops[n.op].arity {
	case 1:
		return []*node{n.a}
	case 2:
		return []*node{n.a, n.b}
	case 3:
		return []*node{n.a, n.b, n.c}
	}
	return nil
}

// mk builds the node op(a, b, c) through the simplifying constructors.
func mk(op opcode, a, b, c *node) *node {
	switch ops[op].arity {
	case 1:
		return mk1(op, a)
	case 2:
		return mk2(op, a, b)
	}
	return mkCond(a, b, c)
}

// mk1 builds op(a), folding constants and removing double negations.
// Every rewrite is exact in floating point.
func mk1(op opcode, a *node) *node {
	if a.isConst() {
		return cnst(ops[op].f1(a.val))
	}
	if op == opNeg {
		switch {
		case a.op == opNeg: // -(-x) = x
			return a.a
		case a.op == opSub: // -(x - y) = y - x
			return mk2(opSub, a.b, a.a)
		case a.op == opMul && a.a.isConst(): // -(c*x) = (-c)*x
			return mk2(opMul, cnst(-a.a.val), a.b)
		}
	}
	return &node{op: op, a: a}
}

// mk2 builds op(a, b), folding constant operands and applying the identities
// x+0 = x, x-0 = x, 0-x = -x, 1*x = x, 0*x = 0, x/1 = x, 0/x = 0, x^1 = x,
// x^0 = 1, 1^x = 1, e^x = exp(x), x/2^k = 2^-k*x, moving negations
// outwards and merging constant factors one of which is a power of two.
// All but 0*x and 0/x are exact in floating point, up to the sign of a zero
// and to overflow in intermediate results; 0*x = 0 and 0/x = 0 are wrong
// only where x is infinite or NaN (or zero, for 0/x).
func mk2(op opcode, a, b *node) *node {
	if a.isConst() && b.isConst() {
		return cnst(ops[op].f2(a.val, b.val))
	}
	switch op {
	case opAdd:
		switch {
		case a.isZero():
			return b
		case b.isZero():
			return a
		case b.isNegative(): // a + (-b) = a - b
			return mk2(opSub, a, b.negated())
		case a.op == opNeg: // (-a) + b = b - a
			return mk2(opSub, b, a.a)
		}
	case opSub:
		switch {
		case b.isZero():
			return a
		case a.isZero():
			return mk1(opNeg, b)
		case b.isNegative(): // a - (-b) = a + b
			return mk2(opAdd, a, b.negated())
		}
	case opMul:
		if b.isConst() { // constants to the left: c*x
			a, b = b, a
		}
		switch {
		case a.isZero():
			return a
		case a.isOne():
			return b
		case a.isMinus1():
			return mk1(opNeg, b)
		case a.isConst() && b.op == opMul && b.a.isConst() && (isPow2(a.val) || isPow2(b.a.val)) && normal(a.val*b.a.val):
			// c1*(c2*x) = (c1*c2)*x, exact when c1 or c2 is a power of two
			// (barring overflow and underflow of c2*x).
			return mk2(opMul, cnst(a.val*b.a.val), b.b)
		case a.isConst() && isPow2(a.val) && leadingConst(b) != nil && normal(a.val*leadingConst(b).val):
			// 2^k*((c*x)*y) = ((2^k*c)*x)*y: scaling by a power of two
			// commutes with rounding.
			return scaleLeading(b, a.val)
		case a.isNegative() && b.op == opNeg: // (-a)*(-b) = a*b
			return mk2(opMul, a.negated(), b.a)
		case a.op == opNeg: // (-a)*b = -(a*b)
			return mk1(opNeg, mk2(opMul, a.a, b))
		case b.op == opNeg: // a*(-b) = -(a*b)
			return mk1(opNeg, mk2(opMul, a, b.a))
		}
	case opDiv:
		switch {
		case b.isOne():
			return a
		case b.isMinus1():
			return mk1(opNeg, a)
		case b.isConst() && isPow2(b.val):
			// x/2^k = 2^-k*x: both are the correctly rounded x·2^-k.
			return mk2(opMul, cnst(1/b.val), a)
		case a.isZero():
			return a
		case a.op == opNeg: // (-a)/b = -(a/b)
			return mk1(opNeg, mk2(opDiv, a.a, b))
		case b.op == opNeg: // a/(-b) = -(a/b)
			return mk1(opNeg, mk2(opDiv, a, b.a))
		}
	case opPow:
		switch {
		case b.isOne():
			return a
		case b.isZero(), a.isOne():
			return cnst(1)
		case a.isConst() && a.val == math.E: // e^x = exp(x), more accurately
			return mk1(opExp, b)
		}
	}
	return &node{op: op, a: a, b: b}
}

// mkCond builds c ? a : b, choosing the branch when c is constant (a NaN
// condition selects NaN, as fCond does).
func mkCond(c, a, b *node) *node {
	if c.isConst() {
		switch {
		case c.val != c.val:
			return cnst(math.NaN())
		case c.val != 0:
			return a
		}
		return b
	}
	if a.isConst() && b.isConst() && math.Float64bits(a.val) == math.Float64bits(b.val) {
		return a
	}
	return &node{op: opCond, a: c, b: a, c: b}
}

// leadingConst returns the constant factor c of a product (…((c*x)*y)…)*z,
// or nil.
func leadingConst(n *node) *node {
	for n.op == opMul {
		if n.a.isConst() {
			return n.a
		}
		n = n.a
	}
	return nil
}

// scaleLeading returns the product n, which has a leading constant, with
// that constant multiplied by s.
func scaleLeading(n *node, s float64) *node {
	if n.a.isConst() {
		return mk2(opMul, cnst(s*n.a.val), n.b)
	}
	return mk2(opMul, scaleLeading(n.a, s), n.b)
}

// normal reports whether v is a finite nonzero number that is not
// subnormal, so that the constant folding that produced it was exact
// scaling by a power of two.
func normal(v float64) bool {
	a := math.Abs(v)
	return a >= 0x1p-1022 && a <= math.MaxFloat64
}

// isPow2 reports whether |v| is a power of two whose products with normal
// numbers are exact scalings.
func isPow2(v float64) bool {
	f, e := math.Frexp(v)
	return (f == 0.5 || f == -0.5) && e > -1000 && e < 1000
}

// rebuild returns a copy of the tree n with every variable v replaced by
// sub(v) (or kept, for a nil result), simplified bottom-up. memo makes it
// linear in the size of the DAG.
func rebuild(n *node, sub func(slot int) *node, memo map[*node]*node) *node {
	if r, ok := memo[n]; ok {
		return r
	}
	var r *node
	switch n.op {
	case opConst:
		r = n
	case opVar:
		if r = sub(n.slot); r == nil {
			r = n
		}
	default:
		var a, b, c *node
		a = rebuild(n.a, sub, memo)
		if n.b != nil {
			b = rebuild(n.b, sub, memo)
		}
		if n.c != nil {
			c = rebuild(n.c, sub, memo)
		}
		r = mk(n.op, a, b, c)
	}
	memo[n] = r
	return r
}

// treeSize returns the number of nodes of n with shared subtrees counted
// once per use, i.e. the size of the expanded tree, or limit+1 if that
// exceeds limit.
func treeSize(n *node, limit int, memo map[*node]int) int {
	if s, ok := memo[n]; ok {
		return s
	}
	s := 1
	for _, k := range n.kids() {
		s += treeSize(k, limit, memo)
		if s > limit {
			s = limit + 1
			break
		}
	}
	memo[n] = s
	return s
}

// usedSlots sets used[slot] for every variable occurring in n.
func usedSlots(n *node, used []bool, seen map[*node]bool) {
	if seen[n] {
		return
	}
	seen[n] = true
	if n.op == opVar {
		used[n.slot] = true
		return
	}
	for _, k := range n.kids() {
		usedSlots(k, used, seen)
	}
}
