package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/example/newsletter/config"
	"github.com/example/newsletter/internal/buildinfo"
	"github.com/example/newsletter/internal/listing"
	"github.com/example/newsletter/sqlite"
)

// app holds what every command shares: the standard streams, the global
// flags, and the config and database opened on first use.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	dbPath     string
	configPath string
	format     string
	quiet      bool
	verbose    bool

	cfg *config.Config
	db  *sqlite.DB
	log *slog.Logger
	// now is the clock; `schedule --now` sets it for the whole run.
	now func() time.Time
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now}
}

func (a *app) close() {
	if a.db != nil {
		a.db.Close()
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "newsletter",
		Short:         "Publish an organisation's articles as email",
		Version:       buildinfo.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setup(cmd)
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	f := root.PersistentFlags()
	f.StringVar(&a.dbPath, "db", envOr("NEWSLETTER_DB", "newsletter.db"), "SQLite database `file` (env NEWSLETTER_DB)")
	f.StringVar(&a.configPath, "config", envOr("NEWSLETTER_CONFIG", "newsletter.toml"), "config `file` (env NEWSLETTER_CONFIG)")
	f.StringVar(&a.format, "format", "table", "output format of listings: table, json or csv")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print only errors")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "print debug logs")

	root.AddCommand(
		a.initCommand(),
		a.articlesCommand(),
		a.feedsCommand(),
		a.categoriesCommand(),
		a.subscribersCommand(),
		a.listsCommand(),
		a.previewCommand(),
		a.digestCommand(),
		a.sendCommand(),
		a.campaignsCommand(),
		a.deliveriesCommand(),
		a.templatesCommand(),
		a.scheduleCommand(),
		a.serveCommand(),
		a.bouncesCommand(),
	)
	for _, c := range root.Commands() {
		setUsageArgs(c)
	}
	addHelp(root)
	return root
}

// setUsageArgs makes argument-count errors usage errors (exit 2).
func setUsageArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &usageError{msg: fmt.Sprintf("%s: %v", cmd.CommandPath(), err)}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		setUsageArgs(sub)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// setup checks the global flags and sets up logging. The config and the
// database are opened lazily, by the commands that need them.
func (a *app) setup(cmd *cobra.Command) error {
	switch a.format {
	case "table", "json", "csv":
	default:
		return usagef("--format must be table, json or csv, not %q", a.format)
	}
	level := slog.LevelInfo
	if a.quiet {
		level = slog.LevelError
	} else if a.verbose {
		level = slog.LevelDebug
	}
	a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	return nil
}

// config loads the configuration once.
func (a *app) config(cmd *cobra.Command) (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	explicit := cmd.Flags().Changed("config") || os.Getenv("NEWSLETTER_CONFIG") != ""
	cfg, err := config.Load(a.configPath, explicit)
	if err != nil {
		return nil, err
	}
	if v := os.Getenv("NEWSLETTER_TRANSPORT"); v != "" {
		cfg.Transport.URL = v
	}
	a.cfg = cfg
	return cfg, nil
}

// store opens the database once, creating and migrating it as needed.
func (a *app) store(ctx context.Context) (*sqlite.DB, error) {
	if a.db != nil {
		return a.db, nil
	}
	db, err := sqlite.Open(ctx, a.dbPath)
	if err != nil {
		return nil, err
	}
	db.Now = func() time.Time { return a.now() }
	a.db = db
	return db, nil
}

// infof prints a message for a person on stderr unless --quiet.
func (a *app) infof(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.stderr, format+"\n", args...)
	}
}

// groupCommand is a command that only holds subcommands: with no arguments it
// prints its help, with an unknown one it is a usage error.
func groupCommand(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
}

// listRows prints the rows query returns as a listing.
func listRows[T any](a *app, ctx context.Context, header []string, query func(ctx context.Context, db *sqlite.DB) ([]T, error), row func(T) listing.Row) error {
	db, err := a.store(ctx)
	if err != nil {
		return err
	}
	items, err := query(ctx, db)
	if err != nil {
		return err
	}
	return a.list(header, func(add func(listing.Row) error) error {
		for _, it := range items {
			if err := add(row(it)); err != nil {
				return err
			}
		}
		return nil
	})
}

// listCommand is a command that prints one listing from the store.
func listCommand[T any](a *app, use, short string, header []string, query func(ctx context.Context, db *sqlite.DB) ([]T, error), row func(T) listing.Row) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return listRows(a, cmd.Context(), header, query, row)
		},
	}
}

// list prints a listing in --format, one row at a time: each calls add for
// every row.
func (a *app) list(header []string, each func(add func(listing.Row) error) error) error {
	l := listing.New(a.stdout, a.format, header)
	if err := each(l.Add); err != nil {
		return err
	}
	return l.Close()
}
