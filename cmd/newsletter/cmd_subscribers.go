package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/listing"
	"github.com/example/newsletter/sqlite"
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
			in := &newsletter.SubscriberInput{
				Email:         email,
				Name:          subscribers.CleanName(name),
				HasName:       cmd.Flags().Changed("name"),
				Categories:    newsletter.SplitCategories(categories, ",;|"),
				HasCategories: cmd.Flags().Changed("categories"),
				Status:        status,
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			r, err := db.AddSubscriber(cmd.Context(), in, lists, resubscribe)
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
			name := args[0]
			var r io.Reader = a.stdin
			if name != "-" {
				f, err := os.Open(name)
				if err != nil {
					return newsletter.Errorf(newsletter.EINVALID, "%s: %w", name, newsletter.PathCause(err))
				}
				defer f.Close()
				r = f
			}
			rd, err := subscribers.NewReaderFrom(r, from)
			if err != nil {
				return newsletter.Errorf(newsletter.EINVALID, "%s: %s", name, newsletter.ErrorMessage(err))
			}
			if rd.Format() != "" {
				a.infof("%s: read as %s", name, rd.Description())
				if len(lists) == 0 {
					lists = []string{newsletter.DefaultList} // tags and lists of the service are added to it
				}
			}
			if ign := rd.Ignored(); len(ign) > 0 {
				a.infof("%s: ignored column(s): %s", name, strings.Join(ign, ", "))
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			counts, err := db.ImportSubscribers(cmd.Context(), rd.Inputs(), newsletter.ImportOptions{
				Lists:  lists,
				Strict: strict,
				OnReject: func(err error) {
					fmt.Fprintf(a.stderr, "%s: %v\n", name, err)
				},
			})
			if err != nil {
				return err
			}
			a.infof("%d added, %d updated, %d unchanged, %d rejected", counts.Added, counts.Updated, counts.Unchanged, counts.Rejected)
			if counts.Added+counts.Updated+counts.Unchanged == 0 && !strict {
				return newsletter.Errorf(newsletter.EINVALID, "%s: no row could be imported; see the reasons above", name)
			}
			return nil
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
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			w, err := subscribers.NewWriter(a.stdout)
			if err != nil {
				return err
			}
			w.Raw = raw
			if err := db.EachSubscriber(cmd.Context(), newsletter.SubscriberFilter{List: list, Status: status}, w.Write); err != nil {
				return err
			}
			return w.Flush()
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
		RunE: a.onAddress(func(ctx context.Context, db *sqlite.DB, email string) error {
			changed, err := db.SetSubscriberStatus(ctx, email, newsletter.StatusUnsubscribed)
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
		RunE: a.onAddress(func(ctx context.Context, db *sqlite.DB, email string) error {
			if forget {
				if err := db.ForgetSubscriber(ctx, email); err != nil {
					return err
				}
				a.infof("%s: removed and forgotten (the delivery log holds only its hash)", email)
				return nil
			}
			remembered, err := db.RemoveSubscriber(ctx, email)
			if err != nil {
				return err
			}
			if remembered != "" {
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
// address and the open store.
func (a *app) onAddress(fn func(ctx context.Context, db *sqlite.DB, email string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		email, err := subscribers.NormalizeEmail(args[0])
		if err != nil {
			return err
		}
		db, err := a.store(cmd.Context())
		if err != nil {
			return err
		}
		return fn(cmd.Context(), db, email)
	}
}
