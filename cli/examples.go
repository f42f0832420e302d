package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fokkerplanck/fokker/examples"
)

func newExamplesCmd(e *env) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "examples [DIR]",
		Short: "List the built-in example specs, or write them to DIR",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				for _, n := range examples.Names() {
					fmt.Fprintf(e.stdout, "%-18s %s\n", n, examples.Title(n))
				}
				return nil
			}
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return badInput(err)
			}
			for _, n := range examples.Names() {
				b, _ := examples.Spec(n)
				path := filepath.Join(dir, n+".toml")
				if _, err := os.Stat(path); err == nil && !force {
					existing, _ := os.ReadFile(path)
					if string(existing) != string(b) {
						e.printf("kept %s (differs from the built-in example; --force to overwrite)\n", path)
						continue
					}
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					return badInput(err)
				}
				e.printf("wrote %s\n", path)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite example files that were edited")
	return c
}
