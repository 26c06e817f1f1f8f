package main

import (
	"fmt"

	"github.com/example/newsletter/internal/listing"
	"github.com/spf13/cobra"
)

type listJSON struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
	Active  int    `json:"active"`
}

func (a *app) listsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "lists",
		Short: "List the lists with their member counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			lists, err := db.Lists(cmd.Context())
			if err != nil {
				return err
			}
			t := &listing.Table{Header: []string{"name", "members", "active"}}
			js := []listJSON{}
			for _, l := range lists {
				js = append(js, listJSON{l.Name, l.Members, l.Active})
				t.Rows = append(t.Rows, []string{l.Name, fmt.Sprint(l.Members), fmt.Sprint(l.Active)})
			}
			t.JSON = js
			return listing.Print(a.stdout, a.format, t)
		},
	}
}
