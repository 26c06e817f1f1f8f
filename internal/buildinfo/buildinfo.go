// Package buildinfo says which build of the tool is running.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Version says which build this is: the module version when installed from
// a tagged release, else the VCS commit it was built from (with +dirty for
// uncommitted changes), as Go records them in the binary.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	var rev, when string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return v + " (built without VCS information; go build -buildvcs=true records the commit)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += " with uncommitted changes"
	}
	return fmt.Sprintf("commit %s of %s, %s", rev, when, info.GoVersion)
}
