package main

import (
	"github.com/example/newsletter/internal/listing"
	"github.com/spf13/cobra"
)

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
			return a.list(listing.ListHeader, func(add func(listing.Row) error) error {
				for _, l := range lists {
					if err := add(listing.List(l)); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}
