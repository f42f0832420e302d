package spec

import (
	"strings"
)

// Line returns the 1-based line of the TOML text where the dotted key field
// (an index suffix such as "[1]" is ignored) is defined, or where its
// nearest defined parent is, or 0.
func (s *Spec) Line(field string) int {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	keys := strings.Split(field, ".")
	for n := len(keys); n > 0; n-- {
		if l := findKey(s.Source, keys[:n]); l > 0 {
			return l
		}
	}
	return 0
}

// findKey scans TOML text for the line defining the key path: a table header
// [a.b] for the path itself, or "key = " inside the table of its parent.
// It understands the subset of TOML used by specs (bare or quoted keys,
// [table] headers, dotted keys at the top of a table).
func findKey(text string, path []string) int {
	var table []string
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(stripComment(raw))
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") && !strings.HasPrefix(line, "[[") {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				continue
			}
			table = splitKey(line[1:end])
			if equal(table, path) {
				return i + 1
			}
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			continue
		}
		key := append(append([]string(nil), table...), splitKey(line[:eq])...)
		if equal(key, path) {
			return i + 1
		}
	}
	return 0
}

func splitKey(s string) []string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return parts
}

func stripComment(s string) string {
	inStr := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr != 0:
			if c == inStr {
				inStr = 0
			}
		case c == '"' || c == '\'':
			inStr = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
