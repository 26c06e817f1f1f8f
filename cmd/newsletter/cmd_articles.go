package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/articles"
	"github.com/example/newsletter/internal/listing"
)

func (a *app) articlesCommand() *cobra.Command {
	cmd := groupCommand("articles", "Add, list and show articles")
	cmd.AddCommand(a.articlesAddCommand(), a.articlesListCommand(), a.articlesShowCommand())
	return cmd
}

func (a *app) articlesAddCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "add PATH|URL|- ...",
		Short: "Add or update articles from files, directories, feeds or stdin",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			list, err := cfg.ArticleLoader(a.stdin).LoadAll(cmd.Context(), args, func(e error) { fmt.Fprintln(a.stderr, e) })
			if err != nil {
				return err
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			in, err := articles.StoreAll(cmd.Context(), db, list)
			if err != nil {
				return err
			}
			if a.verbose {
				for i, r := range in.Results {
					a.infof("%s: %s (%s)", r, list[i].Slug, list[i].Source)
				}
			}
			a.infof("%d added, %d updated, %d unchanged", in.Count(newsletter.Added), in.Count(newsletter.Updated), in.Count(newsletter.Unchanged))
			return nil
		},
	}
}

// parseDateFlag reads a YYYY-MM-DD flag value.
func parseDateFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(newsletter.DateLayout, v)
	if err != nil {
		return time.Time{}, usagef("--%s %q: use YYYY-MM-DD", name, v)
	}
	return t, nil
}

func (a *app) articlesListCommand() *cobra.Command {
	var category, since string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List articles, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sinceT, err := parseDateFlag("since", since)
			if err != nil {
				return err
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			return a.list(listing.ArticleHeader, func(add func(listing.Row) error) error {
				return db.EachArticle(cmd.Context(), newsletter.ArticleFilter{Category: category, Since: sinceT},
					func(ar *newsletter.Article) error { return add(listing.Article(ar, false)) })
			})
		},
	}
	cmd.Flags().StringVar(&category, "category", "", "only articles in this category")
	cmd.Flags().StringVar(&since, "since", "", "only articles published on or after `DATE` (YYYY-MM-DD)")
	return cmd
}

func (a *app) articlesShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show SLUG",
		Short: "Show one article",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			ar, err := db.ArticleBySlug(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			switch a.format {
			case "json":
				return a.list(nil, func(add func(listing.Row) error) error { return add(listing.Article(ar, true)) })
			case "csv":
				return listing.Print(a.stdout, a.format, &listing.Table{
					Header: []string{"slug", "title", "date", "categories", "url", "summary", "body"},
					Rows:   [][]string{{ar.Slug, ar.Title, ar.Date.Format(newsletter.DateLayout), strings.Join(ar.Categories, ", "), ar.URL, ar.Summary, ar.Body}},
				})
			}
			fmt.Fprintf(a.stdout, "Title:      %s\nSlug:       %s\nDate:       %s\nCategories: %s\nURL:        %s\nSource:     %s\n\n%s\n",
				ar.Title, ar.Slug, ar.Date.Format(newsletter.DateLayout), strings.Join(ar.Categories, ", "), ar.URL, ar.Source, ar.Body)
			return nil
		},
	}
}
