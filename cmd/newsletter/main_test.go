package main

import (
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
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
			env.Values["sink"] = &sinkHolder{}
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
		"sink":       cmdSink,
		"feedserver": cmdFeedServer, // feeds_test.go
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

// sinkHolder keeps a script's SMTP sink.
type sinkHolder struct{ s *smtptest.Server }

// cmdSink drives an in-process SMTP sink from a script:
//
//	sink start                 start it; $SMTP is its transport URL
//	sink count [ADDR] N        it accepted N messages (for ADDR)
//	sink has ADDR TEXT         the text part of ADDR's last message contains TEXT
//	sink fault STAGE CODE RE   inject CODE at STAGE for recipients matching RE
//	sink clear                 forget faults
func cmdSink(ts *testscript.TestScript, neg bool, args []string) {
	h := ts.Value("sink").(*sinkHolder)
	if len(args) == 0 {
		ts.Fatalf("usage: sink start|count|has|fault|clear")
	}
	if args[0] != "start" && h.s == nil {
		ts.Fatalf("sink: not started")
	}
	switch args[0] {
	case "start":
		s, err := smtptest.New()
		if err != nil {
			ts.Fatalf("sink: %v", err)
		}
		ts.Defer(s.Close)
		h.s = s
		ts.Setenv("SMTP", s.URL())
	case "count":
		addr, want := "", args[len(args)-1]
		if len(args) == 3 {
			addr = args[1]
		}
		n, err := strconv.Atoi(want)
		if err != nil {
			ts.Fatalf("sink count: %v", err)
		}
		if got := h.s.Count(addr); (got == n) == neg {
			ts.Fatalf("sink has %d messages for %q, want %d", got, addr, n)
		}
	case "has":
		if len(args) != 3 {
			ts.Fatalf("usage: sink has ADDR TEXT")
		}
		var text string
		for _, m := range h.s.Messages() {
			if strings.EqualFold(m.To[0], args[1]) {
				t, _, err := mailer.Parts(m.Data)
				if err != nil {
					ts.Fatalf("sink: message for %s: %v", args[1], err)
				}
				text = strings.Join(strings.Fields(t), " ")
			}
		}
		if strings.Contains(text, args[2]) == neg {
			ts.Fatalf("message for %s: contains %q is %v\n%s", args[1], args[2], !neg, text)
		}
	case "fault":
		if len(args) != 4 {
			ts.Fatalf("usage: sink fault STAGE CODE RE")
		}
		code, _ := strconv.Atoi(args[2])
		enh := [3]int{code / 100, 0, 0}
		if code == 550 {
			enh = [3]int{5, 1, 1}
		}
		h.s.SetFaults(smtptest.Fault{Stage: args[1], Code: code, Enhanced: enh, Match: args[3]})
	case "clear":
		h.s.SetFaults()
	default:
		ts.Fatalf("sink: unknown subcommand %q", args[0])
	}
}

// TestHelpFiles: every help file belongs to a command; none is left over
// after a rename.
func TestHelpFiles(t *testing.T) {
	root := newApp(nil, io.Discard, io.Discard).rootCommand()
	used := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		used[helpName(c)] = true
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	files, err := fs.Glob(helpFS, "help/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !used[f] {
			t.Errorf("%s belongs to no command", f)
		}
	}
}
