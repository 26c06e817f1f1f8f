package main

import (
	"embed"
	"strings"

	"github.com/spf13/cobra"
)

// helpFS holds each command's long help and examples, one file a command
// named by its path ("subscribers-import.txt"), so that the text a person
// reads can be written and reviewed as text. A line "Examples:" starts the
// examples.
//
//go:embed help/*.txt
var helpFS embed.FS

// helpName is the file of a command's help.
func helpName(c *cobra.Command) string {
	name := strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(c.CommandPath(), "newsletter")), " ", "-")
	if name == "" {
		name = "newsletter"
	}
	return "help/" + name + ".txt"
}

// addHelp sets the long help and examples of c and its subcommands from
// helpFS.
func addHelp(c *cobra.Command) {
	if b, err := helpFS.ReadFile(helpName(c)); err == nil {
		text := strings.TrimRight(string(b), "\n")
		long, examples, _ := strings.Cut(text, "\n\nExamples:\n")
		c.Long, c.Example = long, examples
	}
	for _, sub := range c.Commands() {
		addHelp(sub)
	}
}
