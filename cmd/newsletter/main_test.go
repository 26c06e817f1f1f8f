package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"newsletter": main,
	})
}

// TestScripts runs the command end to end: every testdata/script/*.txtar is
// a session at a shell.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			env.Setenv("NEWSLETTER_DB", "")
			env.Setenv("NEWSLETTER_CONFIG", "")
			env.Setenv("NEWSLETTER_TRANSPORT", "")
			return nil
		},
		Cmds: scriptCommands(),
	})
}

// scriptCommands are the commands the scripts have beside testscript's own.
func scriptCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		// exits N CMD ARGS... runs CMD and checks its exit code is N.
		"exits": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 2 {
				ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
			}
			want, err := strconv.Atoi(args[0])
			if err != nil {
				ts.Fatalf("exits: bad code %q", args[0])
			}
			err = ts.Exec(args[1], args[2:]...)
			got := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				got = ee.ExitCode()
			} else if err != nil {
				ts.Fatalf("exits: %v", err)
			}
			if (got == want) == neg {
				ts.Fatalf("%s exited %d, want %d", args[1], got, want)
			}
		},
	}
}

func TestMainHasNoStrayState(t *testing.T) {
	// The binary must not depend on a newsletter.toml in the package
	// directory.
	if _, err := os.Stat("newsletter.toml"); err == nil {
		t.Fatal("cmd/newsletter/newsletter.toml exists; tests would read it")
	}
}
