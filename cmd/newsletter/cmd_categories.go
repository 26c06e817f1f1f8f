package main

import (
	"github.com/example/newsletter/internal/listing"
	"github.com/spf13/cobra"
)

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
			return a.list(listing.CategoryHeader, func(add func(listing.Row) error) error {
				for _, c := range cats {
					if err := add(listing.Category(c)); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}
