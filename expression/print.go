package expression

import (
	"math"
	"strconv"
	"strings"
)

// printer writes trees in the syntax Compile reads, with the fewest
// parentheses that make expr-lang parse the text back into the same tree.
type printer struct {
	names []string
	b     strings.Builder
}

// prec returns the binding power of the outermost operator of n as printed.
func prec(n *node) int {
	switch n.op {
	case opConst:
		if math.IsInf(n.val, 0) || math.IsNaN(n.val) {
			return precAtom // printed in parentheses
		}
		if n.val < 0 || (n.val == 0 && math.Signbit(n.val)) {
			return precUnary // printed with a leading minus
		}
		return precAtom
	case opVar:
		return precAtom
	}
	if ops[n.op].infix {
		return ops[n.op].prec
	}
	return precAtom // function call
}

// leadsWithMinus reports whether n prints with a leading minus sign.
func leadsWithMinus(n *node) bool { return prec(n) == precUnary && n.op != opNot }

func (p *printer) paren(n *node, need bool) {
	if need {
		p.b.WriteByte('(')
		p.node(n)
		p.b.WriteByte(')')
		return
	}
	p.node(n)
}

func (p *printer) node(n *node) {
	switch n.op {
	case opConst:
		p.constant(n.val)
		return
	case opVar:
		p.b.WriteString(p.names[n.slot])
		return
	}
	info := &ops[n.op]
	if !info.infix {
		p.b.WriteString(info.name)
		p.b.WriteByte('(')
		for i, k := range n.kids() {
			if i > 0 {
				p.b.WriteString(", ")
			}
			p.node(k)
		}
		p.b.WriteByte(')')
		return
	}
	switch info.arity {
	case 1: // prefix - or !
		p.b.WriteString(info.name)
		p.paren(n.a, prec(n.a) < precUnary || leadsWithMinus(n.a))
	case 3:
		p.paren(n.a, prec(n.a) <= precCond)
		p.b.WriteString(" ? ")
		p.paren(n.b, prec(n.b) <= precCond)
		p.b.WriteString(" : ")
		p.paren(n.c, prec(n.c) <= precCond)
	case 2:
		pr := info.prec
		var left, right bool
		switch {
		case n.op == opPow: // right-associative
			left = prec(n.a) <= pr
			right = prec(n.b) < pr
		case pr == precCmp: // a < b < c would be a chained comparison
			left = prec(n.a) <= pr
			right = prec(n.b) <= pr
		default: // left-associative
			left = prec(n.a) < pr
			right = prec(n.b) <= pr
		}
		// A right operand with a leading minus is parenthesised: x - (-y),
		// 2^(-x).
		right = right || leadsWithMinus(n.b)
		p.paren(n.a, left)
		switch n.op {
		case opMul, opDiv, opPow:
			p.b.WriteString(info.name)
		default:
			p.b.WriteByte(' ')
			p.b.WriteString(info.name)
			p.b.WriteByte(' ')
		}
		p.paren(n.b, right)
	}
}

// constant writes v so that it parses back to the same float64.
func (p *printer) constant(v float64) {
	switch {
	case math.IsNaN(v):
		p.b.WriteString("(0/0)")
	case math.IsInf(v, 1):
		p.b.WriteString("(1/0)")
	case math.IsInf(v, -1):
		p.b.WriteString("(-1/0)")
	default:
		p.b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	}
}
