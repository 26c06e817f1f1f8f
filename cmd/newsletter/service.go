package main

import (
	"github.com/spf13/cobra"

	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/internal/progress"
)

// mailFlags are the flags of the commands that render or send mail.
type mailFlags struct {
	templatesDir string
	transport    string
	concurrency  int
	rate         float64
	retries      int
	cmd          *cobra.Command // to tell a flag given from its default
}

// changed reports whether the flag was given on the command line.
func (f *mailFlags) changed(name string) bool {
	return f.cmd != nil && f.cmd.Flags().Changed(name)
}

func (f *mailFlags) add(cmd *cobra.Command, sending bool) {
	f.cmd = cmd
	cmd.Flags().StringVar(&f.templatesDir, "templates", "", "a `directory` whose files override the built-in templates")
	if !sending {
		return
	}
	cmd.Flags().StringVar(&f.transport, "transport", "", "where mail goes: smtp://HOST:PORT, smtps://..., file://DIR (env NEWSLETTER_TRANSPORT)")
	cmd.Flags().IntVar(&f.concurrency, "concurrency", 0, "SMTP connections at once (default: transport.concurrency, else 4)")
	cmd.Flags().Float64Var(&f.rate, "rate", 0, "messages per second over all connections, 0 unlimited (default: transport.rate)")
	cmd.Flags().IntVar(&f.retries, "retries", 0, "attempts after a temporary failure (default: transport.retries, else 5)")
}

// service builds the campaign service from the config and flags. With
// sending, the transport is parsed too, so a wrong one is reported before
// anything else happens.
func (a *app) service(cmd *cobra.Command, f *mailFlags, sending bool) (*campaign.Service, error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return nil, err
	}
	db, err := a.store(cmd.Context())
	if err != nil {
		return nil, err
	}
	su := campaign.Setup{TemplatesDir: f.templatesDir, Transport: f.transport, Sending: sending, Serving: cmd.Name() == "serve",
		Concurrency: f.concurrency, Now: a.now, Logger: a.log}
	if f.changed("rate") {
		su.Rate = &f.rate
	}
	if f.changed("retries") {
		su.Retries = &f.retries
	}
	s, err := campaign.New(cmd.Context(), cfg, db, su)
	if err != nil {
		return nil, err
	}
	s.Progress = &progress.Campaign{Out: a.stderr, Quiet: a.quiet}
	return s, nil
}

// exitOf turns what a send did into the exit code of the contract and the
// lines that tell the user what to do next.
func (a *app) exitOf(res *campaign.Result) error {
	if res.Expired > 0 {
		a.infof("%d deferred deliveries ran past transport.queue_lifetime and failed", res.Expired)
	}
	outcome, run := res.Worst()
	if run == nil {
		return nil
	}
	id := run.Campaign.ID
	switch outcome {
	case campaign.Aborted, campaign.Unfinished:
		return exitWith(exitFailure, run.Problem())
	case campaign.Interrupted:
		a.infof("interrupted; campaign %d is resumable: run the same command again", id)
		return exitWith(exitInterrupted, nil)
	case campaign.SomeFailed:
		a.infof("%d deliveries failed; see: newsletter deliveries --campaign %d --status failed", run.Campaign.Failed, id)
		return exitWith(exitSomeFailed, nil)
	}
	return nil
}

// exitWith turns a code into the error run maps to it.
func exitWith(code int, err error) error {
	if code == exitOK && err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}
