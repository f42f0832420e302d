package expression

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrors(t *testing.T) {
	xy := []string{"x", "y"}
	cases := []struct {
		src  string
		vars []string
		col  int
		want string // the full message
	}{
		{"-x + z", xy, 6, `unknown variable "z" at column 6 in "-x + z"`},
		{"é + z", []string{"é"}, 5, `unknown variable "z" at column 5 in "é + z"`}, // columns count runes
		{"foo(x)", xy, 1, `unknown function "foo" at column 1 in "foo(x)"`},
		{"x + sum(x)", xy, 5, `unknown function "sum" at column 5 in "x + sum(x)"`},
		{"exp(x, y)", xy, 1, `exp takes 1 argument, got 2 at column 1 in "exp(x, y)"`},
		{"1 + atan2(x)", xy, 5, `atan2 takes 2 arguments, got 1 at column 5 in "1 + atan2(x)"`},
		{"sin()", xy, 1, `sin takes 1 argument, got 0 at column 1 in "sin()"`},
		{"min(x)", xy, 1, `min takes at least 2 arguments, got 1 at column 1 in "min(x)"`},
		{"x +", xy, 4, `syntax error: unexpected end of expression at column 4 in "x +"`},
		{"(x + y", xy, 7, `syntax error: unexpected end of expression at column 7 in "(x + y"`},
		{"x + y)", xy, 6, `syntax error: unexpected token Bracket(")") at column 6 in "x + y)"`},
		{"2x", xy, 2, `syntax error: bad number syntax: "2x" at column 2 in "2x"`},
		{"x @ y", xy, 3, `syntax error: unrecognized character: U+0040 '@' at column 3 in "x @ y"`},
		{"x.y", xy, 3, `member access and indexing are not supported at column 3 in "x.y"`},
		{"x[0]", xy, 2, `member access and indexing are not supported at column 2 in "x[0]"`},
		{"'a' + x", xy, 1, `strings are not supported at column 1 in "'a' + x"`},
		{"[1, 2]", xy, 1, `arrays and maps are not supported at column 1 in "[1, 2]"`},
		{"x in y", xy, 3, `unsupported operator "in" at column 3 in "x in y"`},
		{"x ?? y", xy, 3, `unsupported operator "??" at column 3 in "x ?? y"`},
		{"x; y", xy, 1, `';' is only allowed after a let binding at column 1 in "x; y"`},
		{"nil", xy, 1, `nil is not supported at column 1 in "nil"`},
		{"x | exp()", xy, 5, `the pipe operator | is not supported at column 5 in "x | exp()"`},
		{"x | abs()", xy, 5, `the pipe operator | is not supported at column 5 in "x | abs()"`},
		{"", xy, 0, `empty expression in ""`},
		{" \t", xy, 0, `empty expression in " \t"`},
		{"x", []string{"x", "x"}, 0, `variable "x" declared twice in "x"`},
		{"x", []string{"1x"}, 0, `invalid variable name "1x" in "x"`},
		{"x", []string{"not"}, 0, `invalid variable name "not" in "x"`},
		{"x", []string{""}, 0, `invalid variable name "" in "x"`},
	}
	for _, c := range cases {
		_, err := Compile(c.src, c.vars)
		if err == nil {
			t.Errorf("Compile(%q): no error", c.src)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Compile(%q): error %T, want *Error", c.src, err)
			continue
		}
		if e.Column != c.col || e.Expr != c.src {
			t.Errorf("Compile(%q): Column %d, Expr %q; want %d, %q", c.src, e.Column, e.Expr, c.col, c.src)
		}
		if got := err.Error(); got != c.want {
			t.Errorf("Compile(%q):\n got %s\nwant %s", c.src, got, c.want)
		}
	}
}

// TestErrorWrapping shows how callers add the origin of an expression.
func TestErrorWrapping(t *testing.T) {
	_, err := Compile("-x + z", []string{"x", "y"})
	err = fmt.Errorf("model.drift[1]: %w", err)
	if got, want := err.Error(), `model.drift[1]: unknown variable "z" at column 6 in "-x + z"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Column != 6 {
		t.Errorf("errors.As: %v", e)
	}
}

// TestErrorExcerpt checks that long expressions are shortened around the
// column in messages.
func TestErrorExcerpt(t *testing.T) {
	src := strings.Repeat("x + ", 50) + "z" + strings.Repeat(" + x", 50)
	_, err := Compile(src, []string{"x"})
	msg := err.Error()
	if !strings.Contains(msg, "at column 201 in \"…") || !strings.Contains(msg, "z") || !strings.HasSuffix(msg, "…\"") || len(msg) > 150 {
		t.Errorf("excerpt: %s", msg)
	}
}

func TestLimits(t *testing.T) {
	vars := []string{"x", "y"}
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "x" + strings.Repeat(close, n)
	}
	long := strings.Repeat("x + ", MaxLength/4) + "x"
	cases := []struct {
		name string
		src  string
		ok   bool
	}{
		{"length", long, false},
		{"calls at MaxDepth", nest("sin(", ")", MaxDepth-1), true},
		{"calls beyond MaxDepth", nest("sin(", ")", MaxDepth+1), false},
		{"unary minus beyond MaxDepth", nest("-", "", MaxDepth+1), false},
		{"powers beyond MaxDepth", strings.Repeat("x^", MaxDepth+1) + "x", false},
		{"parenthesised sums beyond MaxDepth", nest("1 + (", ")", MaxDepth+1), false},
		// A long sum or product is one level deep.
		{"long sum", strings.Repeat("x + ", 2000) + "x", true},
		{"long product", strings.Repeat("x*", 2000) + "x", true},
		// Redundant parentheses add no depth.
		{"parentheses", nest("(", ")", 1000), true},
		// let-bindings expanding to 2^25 nodes.
		{"let expansion", func() string {
			s, prev := "", "x"
			for i := range 25 {
				s += fmt.Sprintf("let a%d = %s + %s; ", i, prev, prev)
				prev = fmt.Sprintf("a%d", i)
			}
			return s + prev
		}(), false},
	}
	for _, c := range cases {
		_, err := Compile(c.src, vars)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok = %v", c.name, err, c.ok)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s: error %T, want *Error", c.name, err)
			}
			if len(err.Error()) > 200 {
				t.Errorf("%s: message of %d bytes", c.name, len(err.Error()))
			}
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "expression: unknown variable") {
			t.Errorf("recover() = %v", r)
		}
	}()
	MustCompile("q", nil)
}
