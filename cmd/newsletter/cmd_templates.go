package main

import (
	"github.com/spf13/cobra"

	"github.com/example/newsletter/templates"
)

func (a *app) templatesCommand() *cobra.Command {
	cmd := groupCommand("templates", "Export and check mail templates")
	cmd.AddCommand(&cobra.Command{
		Use:   "export DIR",
		Short: "Write the built-in templates into DIR to start your own",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			written, err := templates.Export(args[0])
			for _, p := range written {
				a.infof("wrote %s", p)
			}
			return err
		},
	}, &cobra.Command{
		Use:   "check [DIR]",
		Short: "Render the templates (DIR over the built-in ones) on sample data",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			dir := cfg.Templates.Dir
			if len(args) == 1 {
				dir = args[0]
			}
			if err := templates.Check(templates.Site{Name: cfg.Site.Name, URL: cfg.Site.URL, Address: cfg.Site.Address}, dir); err != nil {
				return err
			}
			a.infof("templates OK")
			return nil
		},
	})
	return cmd
}
