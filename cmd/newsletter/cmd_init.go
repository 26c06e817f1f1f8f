package main

import (
	"github.com/spf13/cobra"

	"github.com/example/newsletter/config"
)

func (a *app) initCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented newsletter.toml and create the database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := config.WriteTemplate(a.configPath, force); err != nil {
				return err
			}
			if _, err := a.store(cmd.Context()); err != nil {
				return err
			}
			a.infof("wrote %s and created %s", a.configPath, a.dbPath)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing config file")
	return cmd
}
