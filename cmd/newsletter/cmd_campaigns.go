package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/listing"
	"github.com/example/newsletter/subscribers"
)

type campaignJSON struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	List       string `json:"list"`
	Status     string `json:"status"`
	Subject    string `json:"subject"`
	Articles   int    `json:"articles"`
	Recipients int    `json:"recipients"`
	Pending    int    `json:"pending"`
	Sending    int    `json:"sending"`
	Sent       int    `json:"sent"`
	Failed     int    `json:"failed"`
	Unknown    int    `json:"unknown"`
	Deferred   int    `json:"deferred"`
	CreatedAt  string `json:"created_at"`
	FinishedAt string `json:"finished_at"`
	// After the relay: bounces and complaints that came back.
	Bounced       int     `json:"bounced"`
	Complained    int     `json:"complained"`
	BounceRate    float64 `json:"bounce_rate"`
	ComplaintRate float64 `json:"complaint_rate"`
}

func (a *app) campaignsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "campaigns",
		Short: "List campaigns with their delivery counts, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := db.Campaigns(cmd.Context())
			if err != nil {
				return err
			}
			bs, err := db.CampaignBounces(cmd.Context())
			if err != nil {
				return err
			}
			t := &listing.Table{Header: []string{"id", "kind", "list", "status", "articles", "recipients", "sent", "deferred", "failed", "unknown", "pending", "created_at",
				"bounced", "complained", "bounce_rate", "complaint_rate"}}
			js := []campaignJSON{}
			for _, c := range cs {
				b := bs[c.ID]
				js = append(js, campaignJSON{c.ID, c.Kind, c.List, c.Status, c.Subject, c.Articles, c.Recipients, c.Pending, c.Sending,
					c.Sent, c.Failed, c.Unknown, c.Deferred, listing.Time(c.CreatedAt), listing.Time(c.FinishedAt),
					b.Bounced, b.Complained, b.BounceRate(), b.ComplaintRate()})
				t.Rows = append(t.Rows, []string{fmt.Sprint(c.ID), c.Kind, c.List, c.Status, strconv.Itoa(c.Articles), strconv.Itoa(c.Recipients),
					strconv.Itoa(c.Sent), strconv.Itoa(c.Deferred), strconv.Itoa(c.Failed), strconv.Itoa(c.Unknown), strconv.Itoa(c.Pending + c.Sending), listing.Time(c.CreatedAt),
					strconv.Itoa(b.Bounced), strconv.Itoa(b.Complained), percent(b.BounceRate()), percent(b.ComplaintRate())})
			}
			t.JSON = js
			return listing.Print(a.stdout, a.format, t)
		},
	}
}

type deliveryJSON struct {
	Campaign  int64  `json:"campaign"`
	Email     string `json:"email"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	Code      int    `json:"code"`
	Error     string `json:"error"`
	MessageID string `json:"message_id"`
	UpdatedAt string `json:"updated_at"`
}

func (a *app) deliveriesCommand() *cobra.Command {
	var filter newsletter.DeliveryFilter
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "List the delivery log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if filter.Status != "" && !contains(newsletter.DeliveryStatuses, filter.Status) {
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
			l := listing.New(a.stdout, a.format, []string{"campaign", "email", "status", "attempts", "code", "error", "message_id", "updated_at"})
			err = db.EachDelivery(cmd.Context(), filter, func(d *newsletter.Delivery) error {
				if a.format == "json" {
					return l.Row(nil, deliveryJSON{d.CampaignID, d.Email, d.Status, d.Attempts, d.Code, d.Error, d.MessageID, listing.Time(d.UpdatedAt)})
				}
				return l.Row([]string{strconv.FormatInt(d.CampaignID, 10), d.Email, d.Status, strconv.Itoa(d.Attempts), strconv.Itoa(d.Code), d.Error, d.MessageID, listing.Time(d.UpdatedAt)}, nil)
			})
			if err != nil {
				return err
			}
			return l.Close()
		},
	}
	cmd.Flags().Int64Var(&filter.CampaignID, "campaign", 0, "only this campaign `ID`")
	cmd.Flags().StringVar(&filter.Status, "status", "", "only deliveries with this `status`")
	cmd.Flags().StringVar(&filter.Email, "email", "", "only deliveries to this address")
	return cmd
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
