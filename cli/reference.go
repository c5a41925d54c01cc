package cli

import "strings"

// CommandDoc documents one subcommand for the generated reference (the man
// page and docs/configuration.md): the text "dcc help NAME" prints.
type CommandDoc struct {
	// Name is the subcommand; Usage its arguments.
	Name, Usage string
	// Summary is one line; Details the paragraphs after the usage line.
	Summary, Details string
}

// Reference returns dcc's subcommands in the order help shows them.
func Reference() []CommandDoc {
	var out []CommandDoc
	for _, c := range commands() {
		out = append(out, CommandDoc{Name: c.name, Usage: c.usage, Summary: c.summary, Details: strings.TrimSpace(c.details)})
	}
	return out
}

// Synopsis is the opening of "dcc help": the ways dcc is called.
func Synopsis() string {
	var b strings.Builder
	printHelp(&b)
	text, _, _ := strings.Cut(b.String(), "\nCommands:")
	return strings.TrimSpace(text)
}
