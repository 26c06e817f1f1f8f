// Package profile writes a CPU profile of a whole run when
// NEWSLETTER_CPUPROFILE names a file (scripts/loadtest uses it).
package profile

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// Start writes a CPU profile of the run to the file named by
// NEWSLETTER_CPUPROFILE, when set. The returned function stops it.
func Start() func() {
	path := os.Getenv("NEWSLETTER_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "newsletter: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "newsletter: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
