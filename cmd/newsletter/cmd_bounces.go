package main

import (
	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/internal/listing"
)

func (a *app) bouncesCommand() *cobra.Command {
	cmd := groupCommand("bounces", "Read bounces and complaints that came back after the relay accepted a message")
	cmd.AddCommand(a.bouncesReadCommand(), a.bouncesFetchCommand(), a.bouncesListCommand())
	return cmd
}

// bounceProcessor is the campaign service's bounce processor.
func (a *app) bounceProcessor(cmd *cobra.Command) (*campaign.Service, *bounces.Processor, error) {
	svc, err := a.service(cmd, &mailFlags{}, false)
	if err != nil {
		return nil, nil, err
	}
	return svc, svc.Bounces(), nil
}

func (a *app) bouncesReadCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "read [PATH|-]",
		Short: "Read bounces from a message file, a maildir, an mbox, or stdin",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "-"
			if len(args) == 1 {
				path = args[0]
			}
			_, p, err := a.bounceProcessor(cmd)
			if err != nil {
				return err
			}
			o, err := p.Read(cmd.Context(), path, a.stdin)
			a.reportBounces(o, p)
			return err
		},
	}
}

func (a *app) bouncesFetchCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "fetch",
		Short: "Read bounces from the bounces.imap mailbox",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, p, err := a.bounceProcessor(cmd)
			if err != nil {
				return err
			}
			o, err := svc.FetchBounces(cmd.Context(), p)
			a.reportBounces(o, p)
			return err
		},
	}
}

// reportBounces prints what reading bounces did.
func (a *app) reportBounces(o bounces.Outcome, p *bounces.Processor) {
	a.infof("%d messages: %d reports recorded (%d addresses bounced, %d complained), %d seen before, %d delayed, %d not bounces, %d forged, %d not ours",
		o.Messages, o.Recorded, o.Bounced, o.Complained, o.Duplicates, o.Delayed, o.NotReports, o.Forged, o.Unmatched)
	if p.VERP == nil && o.Unmatched > 0 {
		a.infof("bounces.return_path is not set: without VERP only bounces that quote the original Message-ID can be matched")
	}
}

func (a *app) bouncesListCommand() *cobra.Command {
	var filter newsletter.BounceFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the bounces and complaints recorded, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			return a.list(listing.BounceHeader, func(add func(listing.Row) error) error {
				return db.EachBounceRecord(cmd.Context(), filter, func(r *newsletter.BounceRecord) error { return add(listing.Bounce(r)) })
			})
		},
	}
	cmd.Flags().Int64Var(&filter.CampaignID, "campaign", 0, "only this campaign `ID`")
	return cmd
}
