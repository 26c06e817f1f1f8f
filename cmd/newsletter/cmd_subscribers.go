package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/audience"
	"github.com/example/newsletter/internal/listing"
	"github.com/example/newsletter/subscribers"
)

func (a *app) subscribersCommand() *cobra.Command {
	cmd := groupCommand("subscribers", "Add, import, export, list and remove subscribers")
	cmd.AddCommand(
		a.subscribersAddCommand(),
		a.subscribersImportCommand(),
		a.subscribersExportCommand(),
		a.subscribersListCommand(),
		a.subscribersUnsubscribeCommand(),
		a.subscribersRemoveCommand(),
	)
	return cmd
}

// checkLists validates --list values.
func checkLists(lists []string) error {
	for _, l := range lists {
		if err := subscribers.ValidListName(l); err != nil {
			return usagef("--list: %s", newsletter.ErrorMessage(err))
		}
	}
	return nil
}

func checkStatus(flag, s string) error {
	if s != "" && !newsletter.ValidStatus(s) {
		return usagef("--%s %q: use one of %s", flag, s, strings.Join(newsletter.Statuses, ", "))
	}
	return nil
}

func (a *app) subscribersAddCommand() *cobra.Command {
	var name, categories, status string
	var lists []string
	var resubscribe bool
	cmd := &cobra.Command{
		Use:   "add EMAIL",
		Short: "Add a subscriber, or update a known one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			email, err := subscribers.NormalizeEmail(args[0])
			if err != nil {
				return err
			}
			if err := checkLists(lists); err != nil {
				return err
			}
			if err := checkStatus("status", status); err != nil {
				return err
			}
			svc, err := a.audience(cmd.Context())
			if err != nil {
				return err
			}
			r, err := svc.Add(cmd.Context(), audience.AddRequest{
				Email:         email,
				Name:          name,
				HasName:       cmd.Flags().Changed("name"),
				Categories:    categories,
				HasCategories: cmd.Flags().Changed("categories"),
				Status:        status,
				Lists:         lists,
				Resubscribe:   resubscribe,
			})
			if err != nil {
				return err
			}
			a.infof("%s: %s", email, r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the subscriber's name")
	f.StringVar(&categories, "categories", "", "comma-separated `categories` (none: every category)")
	f.StringArrayVar(&lists, "list", nil, "a `list` to join (repeatable; default newsletter)")
	f.StringVar(&status, "status", "", "status: active (default for new), unconfirmed, unsubscribed, bounced, complained")
	f.BoolVar(&resubscribe, "resubscribe", false, "make an unsubscribed, bounced or complained address active (only at their request)")
	return cmd
}

func (a *app) subscribersImportCommand() *cobra.Command {
	var lists []string
	var strict bool
	var from string
	cmd := &cobra.Command{
		Use:   "import FILE.csv|-",
		Short: "Import subscribers from CSV",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLists(lists); err != nil {
				return err
			}
			src, err := audience.OpenSource(args[0], a.stdin, from)
			if err != nil {
				return err
			}
			defer src.Close()
			if src.Format() != "" {
				a.infof("%s: read as %s", src.Name, src.Description())
			}
			if ign := src.Ignored(); len(ign) > 0 {
				a.infof("%s: ignored column(s): %s", src.Name, strings.Join(ign, ", "))
			}
			svc, err := a.audience(cmd.Context())
			if err != nil {
				return err
			}
			counts, err := svc.Import(cmd.Context(), src, newsletter.ImportOptions{
				Lists:  lists,
				Strict: strict,
				OnReject: func(err error) {
					fmt.Fprintf(a.stderr, "%s: %v\n", src.Name, err)
				},
			})
			if counts != nil {
				a.infof("%d added, %d updated, %d unchanged, %d rejected", counts.Added, counts.Updated, counts.Unchanged, counts.Rejected)
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&lists, "list", nil, "a `list` every row joins (repeatable)")
	cmd.Flags().BoolVar(&strict, "strict", false, "store nothing if any row is invalid")
	cmd.Flags().StringVar(&from, "from", "", "read the export of `SERVICE`: mailchimp, listmonk or substack (default: recognised by the header)")
	return cmd
}

func (a *app) subscribersExportCommand() *cobra.Command {
	var list, status string
	var raw bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write subscribers as CSV on stdout (re-importable)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkStatus("status", status); err != nil {
				return err
			}
			svc, err := a.audience(cmd.Context())
			if err != nil {
				return err
			}
			return svc.Export(cmd.Context(), a.stdout, newsletter.SubscriberFilter{List: list, Status: status}, raw)
		},
	}
	cmd.Flags().StringVar(&list, "list", "", "only members of this `list`")
	cmd.Flags().StringVar(&status, "status", "", "only subscribers with this `status`")
	cmd.Flags().BoolVar(&raw, "raw", false, "write cells as stored, without the ' that keeps spreadsheets from reading formulas")
	return cmd
}

func (a *app) subscribersListCommand() *cobra.Command {
	var filter newsletter.SubscriberFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List subscribers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkStatus("status", filter.Status); err != nil {
				return err
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			return a.list(listing.SubscriberHeader, func(add func(listing.Row) error) error {
				return db.EachSubscriber(cmd.Context(), filter, func(s *newsletter.Subscriber) error { return add(listing.Subscriber(s)) })
			})
		},
	}
	cmd.Flags().StringVar(&filter.List, "list", "", "only members of this `list`")
	cmd.Flags().StringVar(&filter.Category, "category", "", "only subscribers who receive this `category`")
	cmd.Flags().StringVar(&filter.Status, "status", "", "only subscribers with this `status`")
	return cmd
}

func (a *app) subscribersUnsubscribeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unsubscribe EMAIL",
		Short: "Mark a subscriber unsubscribed: they receive nothing more",
		Args:  cobra.ExactArgs(1),
		RunE: a.onAddress(func(ctx context.Context, svc *audience.Service, email string) error {
			changed, err := svc.Unsubscribe(ctx, email)
			if err != nil {
				return err
			}
			if changed {
				a.infof("%s: unsubscribed", email)
			} else {
				a.infof("%s: already unsubscribed", email)
			}
			return nil
		}),
	}
}

func (a *app) subscribersRemoveCommand() *cobra.Command {
	var forget bool
	cmd := &cobra.Command{
		Use:   "remove EMAIL",
		Short: "Delete a subscriber; --forget also erases every trace of the address",
		Args:  cobra.ExactArgs(1),
		RunE: a.onAddress(func(ctx context.Context, svc *audience.Service, email string) error {
			remembered, err := svc.Remove(ctx, email, forget)
			if err != nil {
				return err
			}
			if forget {
				a.infof("%s: removed and forgotten (the delivery log holds only its hash)", email)
			} else if remembered != "" {
				a.infof("%s: removed; remembered as %s, so it is not mailed again (--forget erases that too)", email, remembered)
			} else {
				a.infof("%s: removed", email)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&forget, "forget", false, "erasure request: also drop the suppression entry and replace the address in the delivery log by its hash")
	return cmd
}

// onAddress runs fn with the command's one argument as a normalised
// address and the subscribers service.
func (a *app) onAddress(fn func(ctx context.Context, svc *audience.Service, email string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		email, err := subscribers.NormalizeEmail(args[0])
		if err != nil {
			return err
		}
		svc, err := a.audience(cmd.Context())
		if err != nil {
			return err
		}
		return fn(cmd.Context(), svc, email)
	}
}

// audience is the subscribers service over the store.
func (a *app) audience(ctx context.Context) (*audience.Service, error) {
	db, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	return audience.New(db), nil
}
