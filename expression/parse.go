package expression

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// reserved are the words expr-lang's lexer treats as operators or literals;
// they cannot name variables.
var reserved = map[string]bool{
	"not": true, "in": true, "or": true, "and": true, "matches": true,
	"contains": true, "startsWith": true, "endsWith": true, "let": true,
	"if": true, "else": true, "true": true, "false": true, "nil": true,
}

// validName reports whether s can name a variable: a letter or underscore
// followed by letters, digits and underscores, and not a reserved word.
func validName(s string) bool {
	if s == "" || reserved[s] {
		return false
	}
	for i, r := range s {
		if r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)) {
			continue
		}
		return false
	}
	return true
}

// converter turns an expr-lang syntax tree into a simplified node tree.
type converter struct {
	src   string
	slots map[string]int
	scope []binding // let-bindings, innermost last
}

type binding struct {
	name string
	val  *node
}

// column converts an expr-lang location (a rune offset) to a 1-based column.
func column(loc file.Location) int { return loc.From + 1 }

func (c *converter) errorf(n ast.Node, format string, args ...any) *Error {
	col := 0
	if n != nil {
		col = column(n.Location())
	}
	return &Error{Expr: c.src, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// parse parses and converts src.
func parse(src string, slots map[string]int) (root *node, err error) {
	if len(src) > MaxLength {
		return nil, &Error{Expr: src, Msg: fmt.Sprintf("expression is %d bytes long, more than the limit of %d", len(src), MaxLength)}
	}
	if !utf8.ValidString(src) {
		return nil, &Error{Expr: src, Msg: "expression is not valid UTF-8"}
	}
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Expr: src, Msg: "empty expression"}
	}
	// The parser is third-party code; no input string may make Compile
	// panic, so a panic in it becomes an error.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Expr: src, Msg: fmt.Sprintf("internal parser error: %v", r)}
		}
	}()
	tree, perr := parser.Parse(src)
	if perr != nil {
		var fe *file.Error
		if errors.As(perr, &fe) {
			msg, col := fe.Message, column(fe.Location)
			if msg == "unexpected token EOF" || msg == "unexpected end of expression" {
				// Point just past the end, where more was expected.
				msg, col = "unexpected end of expression", utf8.RuneCountInString(src)+1
			}
			return nil, &Error{Expr: src, Column: col, Msg: "syntax error: " + msg}
		}
		return nil, &Error{Expr: src, Msg: "syntax error: " + perr.Error()}
	}
	c := &converter{src: src, slots: slots}
	return c.convert(tree.Node, 1)
}

// opClass groups binary operators whose left-leaning chains (a + b - c + …)
// count as one nesting level.
func opClass(op string) int {
	switch op {
	case "+", "-":
		return 1
	case "*", "/", "%":
		return 2
	case "&&", "and":
		return 3
	case "||", "or":
		return 4
	}
	return 0
}

var binaryOps = map[string]opcode{
	"+": opAdd, "-": opSub, "*": opMul, "/": opDiv, "%": opMod,
	"^": opPow, "**": opPow,
	"<": opLT, "<=": opLE, ">": opGT, ">=": opGE, "==": opEQ, "!=": opNE,
	"&&": opAnd, "and": opAnd, "||": opOr, "or": opOr,
}

// convert converts n at nesting depth depth.
func (c *converter) convert(n ast.Node, depth int) (*node, error) {
	if n == nil {
		return nil, &Error{Expr: c.src, Msg: "syntax error: incomplete expression"}
	}
	if depth > MaxDepth {
		return nil, c.errorf(n, "expression nested more than %d levels deep", MaxDepth)
	}
	switch n := n.(type) {
	case *ast.IntegerNode:
		return cnst(float64(n.Value)), nil
	case *ast.FloatNode:
		return cnst(n.Value), nil
	case *ast.BoolNode:
		return cnst(b2f(n.Value)), nil
	case *ast.IdentifierNode:
		return c.identifier(n)
	case *ast.UnaryNode:
		a, err := c.convert(n.Node, depth+1)
		if err != nil {
			return nil, err
		}
		switch n.Operator {
		case "-":
			return mk1(opNeg, a), nil
		case "+":
			return a, nil
		case "!", "not":
			return mk1(opNot, a), nil
		}
		return nil, c.errorf(n, "unsupported operator %q", n.Operator)
	case *ast.BinaryNode:
		op, ok := binaryOps[n.Operator]
		if !ok {
			return nil, c.errorf(n, "unsupported operator %q", n.Operator)
		}
		ld := depth + 1
		if l, ok := n.Left.(*ast.BinaryNode); ok && opClass(n.Operator) != 0 && opClass(l.Operator) == opClass(n.Operator) {
			ld = depth
		}
		a, err := c.convert(n.Left, ld)
		if err != nil {
			return nil, err
		}
		b, err := c.convert(n.Right, depth+1)
		if err != nil {
			return nil, err
		}
		return mk2(op, a, b), nil
	case *ast.ConditionalNode:
		var k [3]*node
		for i, m := range []ast.Node{n.Cond, n.Exp1, n.Exp2} {
			var err error
			if k[i], err = c.convert(m, depth+1); err != nil {
				return nil, err
			}
		}
		return mkCond(k[0], k[1], k[2]), nil
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return nil, c.errorf(n, "unsupported call syntax")
		}
		return c.call(n, id.Value, n.Arguments, depth)
	case *ast.BuiltinNode:
		return c.call(n, n.Name, n.Arguments, depth)
	case *ast.VariableDeclaratorNode:
		if !validName(n.Name) {
			return nil, c.errorf(n, "invalid name %q in let", n.Name)
		}
		v, err := c.convert(n.Value, depth+1)
		if err != nil {
			return nil, err
		}
		c.scope = append(c.scope, binding{n.Name, v})
		body, err := c.convert(n.Expr, depth)
		c.scope = c.scope[:len(c.scope)-1]
		return body, err
	case *ast.StringNode, *ast.BytesNode:
		return nil, c.errorf(n, "strings are not supported")
	case *ast.NilNode:
		return nil, c.errorf(n, "nil is not supported")
	case *ast.SequenceNode:
		return nil, c.errorf(n, "';' is only allowed after a let binding")
	case *ast.MemberNode, *ast.ChainNode, *ast.SliceNode:
		return nil, c.errorf(n, "member access and indexing are not supported")
	case *ast.ArrayNode, *ast.MapNode, *ast.PairNode:
		return nil, c.errorf(n, "arrays and maps are not supported")
	}
	return nil, c.errorf(n, "unsupported syntax %q", n.String())
}

// identifier resolves a name: let-bindings, then variables, then constants.
func (c *converter) identifier(n *ast.IdentifierNode) (*node, error) {
	for i := len(c.scope) - 1; i >= 0; i-- {
		if c.scope[i].name == n.Value {
			return c.scope[i].val, nil
		}
	}
	if s, ok := c.slots[n.Value]; ok {
		return variable(s), nil
	}
	if v, ok := constants[n.Value]; ok {
		return cnst(v), nil
	}
	return nil, c.errorf(n, "unknown variable %q", n.Value)
}

// call converts a call of the function name with arguments args.
func (c *converter) call(n ast.Node, name string, args []ast.Node, depth int) (*node, error) {
	if len(args) > 0 && args[0] != nil && args[0].Location().From < n.Location().From {
		// x | f() parses as f(x): the first argument precedes the name.
		return nil, c.errorf(n, "the pipe operator | is not supported")
	}
	f, ok := funcs[name]
	if !ok {
		return nil, c.errorf(n, "unknown function %q", name)
	}
	arity := ops[f.op].arity
	switch {
	case f.nary && len(args) < 2:
		return nil, c.errorf(n, "%s takes at least 2 arguments, got %d", name, len(args))
	case !f.nary && len(args) != arity:
		s := "s"
		if arity == 1 {
			s = ""
		}
		return nil, c.errorf(n, "%s takes %d argument%s, got %d", name, arity, s, len(args))
	}
	k := make([]*node, len(args))
	for i, a := range args {
		var err error
		if k[i], err = c.convert(a, depth+1); err != nil {
			return nil, err
		}
	}
	if f.nary {
		r := k[0]
		for _, a := range k[1:] {
			r = mk2(f.op, r, a)
		}
		return r, nil
	}
	switch arity {
	case 1:
		return mk1(f.op, k[0]), nil
	default:
		return mk2(f.op, k[0], k[1]), nil
	}
}
