package cli

import (
	"fmt"
	"strings"
)

// ccacheOptions are ccache's own options that dcc accepts as they are, for
// its users' hands and scripts: each stands for the dcc command after it.
var ccacheOptions = map[string][]string{
	"-s": {"stats"}, "--show-stats": {"stats"},
	"-z": {"stats", "--zero"}, "--zero-stats": {"stats", "--zero"},
	"-C": {"clear"}, "--clear": {"clear"},
	"-p": {"config"}, "--show-config": {"config"},
	"-V": {"version"},
}

// ccacheOption translates a command line made of one ccache option ("-s",
// "-z", "-C", "-p", "-V", "-M SIZE" and their long forms) into the dcc
// command it stands for. ok is false for anything else; err says what is
// wrong with an option it knows.
func ccacheOption(args []string) (translated []string, ok bool, err error) {
	if len(args) == 0 {
		return nil, false, nil
	}
	opt, value, hasValue := strings.Cut(args[0], "=")
	if opt == "-M" || opt == "--max-size" {
		switch {
		case hasValue && opt == "--max-size" && len(args) == 1:
		case !hasValue && len(args) == 2:
			value = args[1]
		default:
			return nil, true, fmt.Errorf("%s takes one size, such as %s 10G", opt, opt)
		}
		return []string{"config", "set", "max_size", value}, true, nil
	}
	cmd, known := ccacheOptions[args[0]]
	if !known {
		return nil, false, nil
	}
	if len(args) > 1 {
		return nil, true, fmt.Errorf("%s takes no arguments (dcc %s does the same)", args[0], strings.Join(cmd, " "))
	}
	return cmd, true, nil
}
