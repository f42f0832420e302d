package expression

import (
	"fmt"
	"sync"
)

// Limits on the expressions Compile accepts. They bound the time and memory
// an expression can take to compile, whatever the input.
const (
	// MaxLength is the maximum length of an expression in bytes.
	MaxLength = 10000

	// MaxDepth is the maximum nesting depth of an expression: the number
	// of operators and function calls enclosing its innermost operand. A
	// chain of the same left-associative operators (a + b - c + …,
	// a * b / c * …) counts as one level, as a sum or product of terms.
	MaxDepth = 200

	// MaxNodes is the maximum number of operations and operands of an
	// expression once let-bindings are expanded. It mostly limits
	// derivatives, whose size can grow quadratically with the size of the
	// expression (product rule on long products).
	MaxNodes = 100000
)

// Error is an error in an expression: a syntax error, an unknown name, a
// wrong number of arguments, or a limit exceeded. Its message names the
// column and quotes the expression, so callers need only prefix it with
// where the expression came from, as in
//
//	model.drift[1]: unknown variable "z" at column 6 in "-x + z"
type Error struct {
	Expr   string // the expression text
	Column int    // 1-based column (in runes) of the offending token; 0 if none
	Msg    string // what is wrong, e.g. `unknown variable "z"`
}

// Error returns the message, the column and the expression, which is
// shortened around the column if it is long.
func (e *Error) Error() string {
	text := excerpt(e.Expr, e.Column)
	if e.Column > 0 {
		return fmt.Sprintf("%s at column %d in %q", e.Msg, e.Column, text)
	}
	return fmt.Sprintf("%s in %q", e.Msg, text)
}

// excerpt returns s, or a window of it around column col if s is long.
func excerpt(s string, col int) string {
	const width = 72
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	start := max(0, min(col-1-width/2, len(r)-width))
	end := start + width
	t := string(r[start:end])
	if start > 0 {
		t = "…" + t
	}
	if end < len(r) {
		t += "…"
	}
	return t
}

// Expr is a compiled expression: a function of the variables named when it
// was compiled. An Expr is immutable and safe for concurrent use by any
// number of goroutines.
type Expr struct {
	src   string         // source text, for error messages
	names []string       // variable names in slot order
	slots map[string]int // name → slot
	root  *node          // simplified tree
	used  []bool         // used[slot]: the tree refers to the variable
	fn    evalFn         // scalar evaluator
	prog  program        // batch evaluator
	pool  sync.Pool      // of *workspace, for EvalBatch
}

// Compile parses src and compiles it into a function of the variables vars,
// in slot order: Eval(v) evaluates src with vars[k] = v[k].
//
// Every identifier in src must be one of vars, one of the constants pi and
// e (which vars shadow), or a name bound by let. Errors in src are returned
// as *Error; so are invalid or repeated names in vars.
func Compile(src string, vars []string) (*Expr, error) {
	slots := make(map[string]int, len(vars))
	for k, v := range vars {
		if !validName(v) {
			return nil, &Error{Expr: src, Msg: fmt.Sprintf("invalid variable name %q", v)}
		}
		if _, dup := slots[v]; dup {
			return nil, &Error{Expr: src, Msg: fmt.Sprintf("variable %q declared twice", v)}
		}
		slots[v] = k
	}
	root, err := parse(src, slots)
	if err != nil {
		return nil, err
	}
	return newExpr(src, append([]string(nil), vars...), slots, root)
}

// MustCompile is like Compile but panics if the expression cannot be
// compiled. It is meant for expressions written in Go source.
func MustCompile(src string, vars []string) *Expr {
	e, err := Compile(src, vars)
	if err != nil {
		panic("expression: " + err.Error())
	}
	return e
}

// newExpr checks the size of root and compiles it.
func newExpr(src string, names []string, slots map[string]int, root *node) (*Expr, error) {
	if treeSize(root, MaxNodes, make(map[*node]int)) > MaxNodes {
		return nil, &Error{Expr: src, Msg: fmt.Sprintf("expression has more than %d operations and operands once expanded", MaxNodes)}
	}
	prog, err := compile(root)
	if err != nil {
		return nil, &Error{Expr: src, Msg: "expression too complex: " + err.Error()}
	}
	e := &Expr{src: src, names: names, slots: slots, root: root, fn: closure(root), prog: prog}
	e.used = make([]bool, len(names))
	usedSlots(root, e.used, make(map[*node]bool))
	nregs := prog.nregs
	e.pool.New = func() any { return newWorkspace(nregs) }
	return e, nil
}

// Eval returns the value of the expression at the point vars, which holds
// the value of each variable in slot order. It does not allocate.
//
// Eval panics if len(vars) is not the number of variables.
func (e *Expr) Eval(vars []float64) float64 {
	if len(vars) != len(e.names) {
		panic(fmt.Sprintf("expression: len(vars) = %d, want %d", len(vars), len(e.names)))
	}
	return e.fn(vars)
}

// EvalBatch sets dst[i] to the value of the expression at the i-th of
// len(dst) points. The points are given by columns, one per variable in
// slot order: cols[k][i] is the value of variable k at point i, or cols[k]
// has length 1 and cols[k][0] is the value of variable k at every point
// (a broadcast scalar, for t or a parameter). Columns of variables the
// expression does not use are ignored and may be nil.
//
// EvalBatch gives bit for bit the results of Eval at each point. It
// processes the points in chunks, one operation at a time over a chunk, and
// computes operations on broadcast scalars once per chunk. It does not
// allocate in the steady state: its scratch space comes from a pool
// attached to e. dst may be one of the columns, for evaluation in place,
// but must not otherwise overlap them.
//
// EvalBatch panics if len(cols) is not the number of variables, or if a
// used column's length is neither len(dst) nor 1.
func (e *Expr) EvalBatch(dst []float64, cols [][]float64) {
	if len(cols) != len(e.names) {
		panic(fmt.Sprintf("expression: len(cols) = %d, want %d", len(cols), len(e.names)))
	}
	n := len(dst)
	for k, c := range cols {
		if e.used[k] && len(c) != n && len(c) != 1 {
			panic(fmt.Sprintf("expression: len(cols[%d]) (%s) = %d, want %d or 1", k, e.names[k], len(c), n))
		}
	}
	if n == 0 {
		return
	}
	w := e.pool.Get().(*workspace)
	e.prog.evalBatch(dst, cols, w)
	e.pool.Put(w)
}

// NumVars returns the number of variables, len(vars) of Compile.
func (e *Expr) NumVars() int { return len(e.names) }

// Uses reports whether the simplified expression depends on the variable
// name. It is false for names that are not variables.
func (e *Expr) Uses(name string) bool {
	k, ok := e.slots[name]
	return ok && e.used[k]
}

// Vars returns the names of the variables the simplified expression depends
// on, in slot order.
func (e *Expr) Vars() []string {
	var v []string
	for k, u := range e.used {
		if u {
			v = append(v, e.names[k])
		}
	}
	return v
}

// IsConstant reports whether the simplified expression is a constant: it
// depends on no variable.
func (e *Expr) IsConstant() bool { return e.root.op == opConst }

// Value returns the value of a constant expression. It panics if the
// expression is not constant.
func (e *Expr) Value() float64 {
	if !e.IsConstant() {
		panic("expression: Value of non-constant expression " + e.String())
	}
	return e.root.val
}

// Derivative returns the derivative of the expression with respect to the
// variable name, simplified, as a function of the same variables in the
// same slots. The derivative of a piecewise function (abs, min, max, floor,
// sign, c ? a : b, …) is taken piece by piece; see the package
// documentation.
//
// Derivative returns an *Error if name is not a variable or if the
// derivative exceeds MaxNodes.
func (e *Expr) Derivative(name string) (*Expr, error) {
	k, ok := e.slots[name]
	if !ok {
		return nil, &Error{Expr: e.src, Msg: fmt.Sprintf("derivative with respect to unknown variable %q", name)}
	}
	df := &differ{slot: k, memo: make(map[*node]*node)}
	return newExpr(e.src, e.names, e.slots, df.d(e.root))
}

// Bind returns the expression with the variables named in values replaced
// by those constants and simplified again, as a function of the same
// variables in the same slots (the bound ones are no longer used). Binding
// parameters once makes later evaluations faster through constant folding,
// and lets IsConstant and Uses see that, for instance, a diffusion
// coefficient sigma^2*(1 + x^2) with sigma = 0 is zero.
//
// Bind returns an *Error if a name is not a variable.
func (e *Expr) Bind(values map[string]float64) (*Expr, error) {
	sub := make(map[int]*node, len(values))
	for name, v := range values {
		k, ok := e.slots[name]
		if !ok {
			return nil, &Error{Expr: e.src, Msg: fmt.Sprintf("cannot bind unknown variable %q", name)}
		}
		sub[k] = cnst(v)
	}
	root := rebuild(e.root, func(slot int) *node { return sub[slot] }, make(map[*node]*node))
	return newExpr(e.src, e.names, e.slots, root)
}

// String returns the simplified expression in the syntax Compile accepts:
// compiling it with the same variables gives the same function.
func (e *Expr) String() string {
	p := printer{names: e.names}
	p.node(e.root)
	return p.b.String()
}
