package expression

import (
	"fmt"
	"math"
	"sort"
)

// The batch evaluator is a register machine. Each instruction computes one
// operation of the tree into a register; its operands are registers,
// variables or immediate constants, so leaves cost nothing. Registers are
// allocated in Sethi–Ullman order (the operand needing more registers is
// evaluated first), which keeps the number of registers at most about
// log2 of the number of operations: a handful in practice and far below
// maxRegs for any tree within MaxNodes.

// maxRegs is the maximum number of registers of a program.
const maxRegs = 32

// operand kinds.
const (
	kReg uint8 = iota
	kVar
	kConst
)

// operand is an instruction operand: a register, a variable slot or a
// constant.
type operand struct {
	kind uint8
	i    int32   // register or variable slot
	k    float64 // constant
}

// class selects the batch kernel for an instruction. The common arithmetic
// has its own loops; the rest calls ops[op].f1/f2/f3 per point.
type class uint8

const (
	cAdd class = iota
	cSub
	cMul
	cDiv
	cNeg
	cSquare // a*a
	cPowi   // a^n, n constant
	cF1     // ops[op].f1(a)
	cF2     // ops[op].f2(a, b)
	cF3     // ops[op].f3(a, b, c)
)

type instr struct {
	class   class
	op      opcode
	dst     uint8 // register
	n       int32 // exponent, for cPowi
	a, b, c operand
	f1      func(float64) float64
	f2      func(a, b float64) float64
	f3      func(a, b, c float64) float64
}

// program is a compiled expression.
type program struct {
	code   []instr
	result operand
	nregs  int
}

// gen compiles trees to programs.
type gen struct {
	code []instr
	free []uint8 // free registers, a stack
	next int     // registers ever allocated
	need map[*node]int
}

// compile compiles the tree rooted at n.
func compile(n *node) (program, error) {
	g := &gen{need: make(map[*node]int)}
	if r := g.regsNeeded(n); r > maxRegs {
		return program{}, fmt.Errorf("needs %d registers, more than %d", r, maxRegs)
	}
	res := g.emit(n)
	return program{code: g.code, result: res, nregs: g.next}, nil
}

// regsNeeded returns the Sethi–Ullman number of n: the registers its
// evaluation needs when operands needing more are evaluated first.
func (g *gen) regsNeeded(n *node) int {
	if n.op == opConst || n.op == opVar {
		return 0
	}
	if r, ok := g.need[n]; ok {
		return r
	}
	var needs []int
	for _, k := range n.kids() {
		if r := g.regsNeeded(k); r > 0 {
			needs = append(needs, r)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(needs)))
	r := 1
	for i, m := range needs {
		r = max(r, m+i)
	}
	g.need[n] = r
	return r
}

func (g *gen) alloc() uint8 {
	if len(g.free) > 0 {
		r := g.free[len(g.free)-1]
		g.free = g.free[:len(g.free)-1]
		return r
	}
	g.next++
	return uint8(g.next - 1)
}

func (g *gen) release(o operand) {
	if o.kind == kReg {
		g.free = append(g.free, uint8(o.i))
	}
}

func (g *gen) emit(n *node) operand {
	switch n.op {
	case opConst:
		return operand{kind: kConst, k: n.val}
	case opVar:
		return operand{kind: kVar, i: int32(n.slot)}
	}
	kids := n.kids()
	// Evaluate the operands in order of decreasing register need.
	order := []int{0, 1, 2}[:len(kids)]
	sort.SliceStable(order, func(i, j int) bool {
		return g.regsNeeded(kids[order[i]]) > g.regsNeeded(kids[order[j]])
	})
	var args [3]operand
	for _, i := range order {
		args[i] = g.emit(kids[i])
	}
	for _, a := range args[:len(kids)] {
		g.release(a)
	}
	in := instr{op: n.op, a: args[0], b: args[1], c: args[2]}
	switch n.op {
	case opAdd:
		in.class = cAdd
	case opSub:
		in.class = cSub
	case opMul:
		in.class = cMul
	case opDiv:
		in.class = cDiv
	case opNeg:
		in.class = cNeg
	case opPow:
		in.class, in.f2 = cF2, fPow
		if e := n.b; e.isConst() && e.val == math.Trunc(e.val) && math.Abs(e.val) <= maxPowi {
			// The same arithmetic as fPow, without the test on the
			// exponent.
			in.class, in.n, in.b = cPowi, int32(e.val), operand{}
			if e.val == 2 {
				in.class = cSquare
			}
		}
	default:
		switch ops[n.op].arity {
		case 1:
			in.class, in.f1 = cF1, ops[n.op].f1
		case 2:
			in.class, in.f2 = cF2, ops[n.op].f2
		case 3:
			in.class, in.f3 = cF3, ops[n.op].f3
		}
	}
	in.dst = g.alloc()
	g.code = append(g.code, in)
	return operand{kind: kReg, i: int32(in.dst)}
}
