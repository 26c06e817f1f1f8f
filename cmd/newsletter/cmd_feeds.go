package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/config"
	"github.com/example/newsletter/feeds"
)

func (a *app) feedsCommand() *cobra.Command {
	cmd := groupCommand("feeds", "Poll the [[feed]] entries of the config")
	cmd.AddCommand(a.feedsFetchCommand())
	return cmd
}

func (a *app) feedsFetchCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "fetch [NAME...]",
		Short: "Fetch the [[feed]] entries (all, or those named) and store new and edited items",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			if len(cfg.Feeds) == 0 {
				return newsletter.Errorf(newsletter.EINVALID, "config %s has no [[feed]] entries; add one with name and url", a.configPath)
			}
			list, err := cfg.FeedsNamed(args)
			if err != nil {
				return usagef("%s", newsletter.ErrorMessage(err))
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			_, err = a.fetchFeeds(cmd.Context(), cfg, db, list)
			return err
		},
	}
}

// fetchFeeds fetches feeds and says on stderr what each gave.
func (a *app) fetchFeeds(ctx context.Context, cfg *config.Config, store feeds.Store, list []feeds.Feed) (feeds.Result, error) {
	res, err := cfg.Fetcher().FetchAll(ctx, store, list)
	for _, r := range res.Feeds {
		for _, e := range r.Skipped {
			fmt.Fprintf(a.stderr, "skipped: %v\n", e)
		}
		switch {
		case r.Err != nil:
			fmt.Fprintln(a.stderr, newsletter.ErrorMessage(r.Err))
		case r.NotModified:
			a.infof("feed %s: not modified", r.Name)
		default:
			a.infof("feed %s: %d added, %d updated, %d unchanged", r.Name, r.Added, r.Updated, r.Unchanged)
		}
	}
	if err != nil {
		return res, newsletter.Errorf(newsletter.EINVALID, "some feeds could not be fetched; see above")
	}
	return res, nil
}
