// Package examples holds fokker's built-in example specs, embedded in the
// binary: `fokker examples` lists them and writes them out.
package examples

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.toml
var files embed.FS

// Names returns the example names (file names without .toml), sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(names)
	return names
}

// Spec returns the TOML text of the named example.
func Spec(name string) ([]byte, bool) {
	b, err := files.ReadFile(name + ".toml")
	return b, err == nil
}

// Title returns the title line of an example's spec.
func Title(name string) string {
	b, ok := Spec(name)
	if !ok {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "title") {
			if i := strings.IndexByte(l, '"'); i >= 0 {
				if j := strings.LastIndexByte(l, '"'); j > i {
					return l[i+1 : j]
				}
			}
		}
	}
	return ""
}
