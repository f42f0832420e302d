package expression

import "math"

// The batch evaluator runs a register program (see program.go) in which
// each instruction processes a whole chunk of points, so the cost of
// decoding an instruction is shared by up to chunk points. Registers are
// columns of chunk values in a workspace; a register whose operands were
// all scalars (constants, broadcast variables such as t, or registers
// computed from them) holds a single scalar instead, so subexpressions like
// exp(-t) are computed once per chunk rather than once per point.

// chunk is the number of points processed per pass over the program. A
// chunk of every register fits in the L1 cache for typical programs
// (4 registers × 256 × 8 bytes = 8 KiB).
const chunk = 256

// workspace holds the batch evaluator's registers.
type workspace struct {
	buf []float64 // register r is buf[r*chunk : (r+1)*chunk]
	vec [maxRegs]bool
	val [maxRegs]float64
}

func newWorkspace(nregs int) *workspace {
	return &workspace{buf: make([]float64, nregs*chunk)}
}

// bop is a resolved batch operand: a column, or the scalar s when col is
// nil.
type bop struct {
	col []float64
	s   float64
}

func (w *workspace) resolve(o *operand, cols [][]float64, lo, hi int) bop {
	switch o.kind {
	case kReg:
		if w.vec[o.i] {
			return bop{col: w.buf[int(o.i)*chunk:][:hi-lo]}
		}
		return bop{s: w.val[o.i]}
	case kVar:
		c := cols[o.i]
		if len(c) == 1 {
			return bop{s: c[0]}
		}
		return bop{col: c[lo:hi]}
	}
	return bop{s: o.k}
}

// out marks register r as a column and returns its first m values.
func (w *workspace) out(r uint8, m int) []float64 {
	w.vec[r] = true
	return w.buf[int(r)*chunk:][:m]
}

func (w *workspace) setScalar(r uint8, v float64) {
	w.vec[r] = false
	w.val[r] = v
}

// apply computes the instruction on scalars, with the same arithmetic as
// the kernels and the scalar closures.
func (in *instr) apply(a, b, c float64) float64 {
	switch in.class {
	case cAdd:
		return a + b
	case cSub:
		return a - b
	case cMul:
		return a * b
	case cDiv:
		return a / b
	case cNeg:
		return -a
	case cSquare:
		return a * a
	case cPowi:
		return powi(a, int(in.n))
	case cF1:
		return in.f1(a)
	case cF2:
		return in.f2(a, b)
	}
	return in.f3(a, b, c)
}

// evalBatch evaluates p at len(dst) points; cols have been checked.
func (p *program) evalBatch(dst []float64, cols [][]float64, w *workspace) {
	n := len(dst)
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		m := hi - lo
		for i := range p.code {
			in := &p.code[i]
			a := w.resolve(&in.a, cols, lo, hi)
			var b, c bop
			if in.class == cF2 || in.class <= cDiv {
				b = w.resolve(&in.b, cols, lo, hi)
			} else if in.class == cF3 {
				b = w.resolve(&in.b, cols, lo, hi)
				c = w.resolve(&in.c, cols, lo, hi)
			}
			if a.col == nil && b.col == nil && c.col == nil {
				w.setScalar(in.dst, in.apply(a.s, b.s, c.s))
				continue
			}
			d := w.out(in.dst, m)
			switch in.class {
			case cAdd:
				switch {
				case b.col == nil:
					addVS(d, a.col, b.s)
				case a.col == nil:
					addSV(d, a.s, b.col)
				default:
					addVV(d, a.col, b.col)
				}
			case cSub:
				switch {
				case b.col == nil:
					subVS(d, a.col, b.s)
				case a.col == nil:
					subSV(d, a.s, b.col)
				default:
					subVV(d, a.col, b.col)
				}
			case cMul:
				switch {
				case b.col == nil:
					mulVS(d, a.col, b.s)
				case a.col == nil:
					mulSV(d, a.s, b.col)
				default:
					mulVV(d, a.col, b.col)
				}
			case cDiv:
				switch {
				case b.col == nil:
					divVS(d, a.col, b.s)
				case a.col == nil:
					divSV(d, a.s, b.col)
				default:
					divVV(d, a.col, b.col)
				}
			case cNeg:
				x := a.col[:len(d)]
				for i := range d {
					d[i] = -x[i]
				}
			case cSquare:
				x := a.col[:len(d)]
				for i := range d {
					d[i] = x[i] * x[i]
				}
			case cPowi:
				x := a.col[:len(d)]
				k := int(in.n)
				for i := range d {
					d[i] = powi(x[i], k)
				}
			case cF1:
				unaryVec(in.op, in.f1, d, a.col)
			case cF2:
				f := in.f2
				switch {
				case b.col == nil:
					x, s := a.col[:len(d)], b.s
					for i := range d {
						d[i] = f(x[i], s)
					}
				case a.col == nil:
					s, y := a.s, b.col[:len(d)]
					for i := range d {
						d[i] = f(s, y[i])
					}
				default:
					x, y := a.col[:len(d)], b.col[:len(d)]
					for i := range d {
						d[i] = f(x[i], y[i])
					}
				}
			case cF3:
				f := in.f3
				for i := range d {
					d[i] = f(a.at(i), b.at(i), c.at(i))
				}
			}
		}
		r := w.resolve(&p.result, cols, lo, hi)
		out := dst[lo:hi]
		if r.col == nil {
			for i := range out {
				out[i] = r.s
			}
		} else {
			copy(out, r.col)
		}
	}
}

// unaryVec sets dst[i] = f(x[i]), where f is ops[op].f1. The commonest
// functions are called directly, which lets the compiler inline math.Sqrt
// and math.Abs to single instructions and saves an indirect call for the
// others.
func unaryVec(op opcode, f func(float64) float64, dst, x []float64) {
	x = x[:len(dst)]
	switch op {
	case opExp:
		for i := range dst {
			dst[i] = math.Exp(x[i])
		}
	case opLog:
		for i := range dst {
			dst[i] = math.Log(x[i])
		}
	case opSqrt:
		for i := range dst {
			dst[i] = math.Sqrt(x[i])
		}
	case opAbs:
		for i := range dst {
			dst[i] = math.Abs(x[i])
		}
	default:
		for i := range dst {
			dst[i] = f(x[i])
		}
	}
}

func (o *bop) at(i int) float64 {
	if o.col == nil {
		return o.s
	}
	return o.col[i]
}

// Arithmetic kernels: dst[i] = x[i] op y[i], with a scalar in place of a
// column for the VS and SV forms.

func addVV(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func addVS(dst, x []float64, s float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + s
	}
}

func addSV(dst []float64, s float64, y []float64) {
	y = y[:len(dst)]
	for i := range dst {
		dst[i] = s + y[i]
	}
}

func subVV(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] - y[i]
	}
}

func subVS(dst, x []float64, s float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = x[i] - s
	}
}

func subSV(dst []float64, s float64, y []float64) {
	y = y[:len(dst)]
	for i := range dst {
		dst[i] = s - y[i]
	}
}

func mulVV(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func mulVS(dst, x []float64, s float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * s
	}
}

func mulSV(dst []float64, s float64, y []float64) {
	y = y[:len(dst)]
	for i := range dst {
		dst[i] = s * y[i]
	}
}

func divVV(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] / y[i]
	}
}

func divVS(dst, x []float64, s float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = x[i] / s
	}
}

func divSV(dst []float64, s float64, y []float64) {
	y = y[:len(dst)]
	for i := range dst {
		dst[i] = s / y[i]
	}
}
