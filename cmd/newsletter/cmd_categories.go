package main

import (
	"strconv"

	"github.com/example/newsletter/internal/listing"
	"github.com/spf13/cobra"
)

type categoryJSON struct {
	Name        string `json:"name"`
	Articles    int    `json:"articles"`
	Subscribers int    `json:"subscribers"`
}

func (a *app) categoriesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "categories",
		Short: "List categories with their article and subscriber counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			cats, err := db.Categories(cmd.Context())
			if err != nil {
				return err
			}
			t := &listing.Table{Header: []string{"name", "articles", "subscribers"}}
			js := []categoryJSON{}
			for _, c := range cats {
				js = append(js, categoryJSON{c.Name, c.Articles, c.Subscribers})
				t.Rows = append(t.Rows, []string{c.Name, strconv.Itoa(c.Articles), strconv.Itoa(c.Subscribers)})
			}
			t.JSON = js
			return listing.Print(a.stdout, a.format, t)
		},
	}
}
