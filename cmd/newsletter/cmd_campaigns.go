package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/listing"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
)

func (a *app) campaignsCommand() *cobra.Command {
	var bounced map[int64]newsletter.CampaignBounces
	return listCommand(a, "campaigns", "List campaigns with their delivery counts, newest first", listing.CampaignHeader,
		func(ctx context.Context, db *sqlite.DB) ([]*newsletter.Campaign, error) {
			var err error
			if bounced, err = db.CampaignBounces(ctx); err != nil {
				return nil, err
			}
			return db.Campaigns(ctx)
		},
		func(c *newsletter.Campaign) listing.Row { return listing.Campaign(c, bounced[c.ID]) })
}

func (a *app) deliveriesCommand() *cobra.Command {
	var filter newsletter.DeliveryFilter
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "List the delivery log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if filter.Status != "" && !newsletter.ValidDeliveryStatus(filter.Status) {
				return usagef("--status %q: use %s", filter.Status, strings.Join(newsletter.DeliveryStatuses, ", "))
			}
			if filter.Email != "" {
				e, err := subscribers.NormalizeEmail(filter.Email)
				if err != nil {
					return usagef("--email: %s", newsletter.ErrorMessage(err))
				}
				filter.Email = e
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			return a.list(listing.DeliveryHeader, func(add func(listing.Row) error) error {
				return db.EachDelivery(cmd.Context(), filter, func(d *newsletter.Delivery) error { return add(listing.Delivery(d)) })
			})
		},
	}
	cmd.Flags().Int64Var(&filter.CampaignID, "campaign", 0, "only this campaign `ID`")
	cmd.Flags().StringVar(&filter.Status, "status", "", "only deliveries with this `status`")
	cmd.Flags().StringVar(&filter.Email, "email", "", "only deliveries to this address")
	return cmd
}
