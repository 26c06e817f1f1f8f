package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/listing"
	"github.com/example/newsletter/sqlite"
)

func (a *app) listsCommand() *cobra.Command {
	return listCommand(a, "lists", "List the lists with their member counts", listing.ListHeader,
		func(ctx context.Context, db *sqlite.DB) ([]newsletter.List, error) { return db.Lists(ctx) }, listing.List)
}

func (a *app) categoriesCommand() *cobra.Command {
	return listCommand(a, "categories", "List categories with their article and subscriber counts", listing.CategoryHeader,
		func(ctx context.Context, db *sqlite.DB) ([]newsletter.Category, error) { return db.Categories(ctx) }, listing.Category)
}
