package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/config"
)

func (a *app) initCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented newsletter.toml and create the database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := os.Stat(a.configPath); err == nil && !force {
				return newsletter.Errorf(newsletter.ECONFLICT, "%s exists; use --force to overwrite it (its unsubscribe secret will change)", a.configPath)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return newsletter.Errorf(newsletter.EINVALID, "%s: %w", a.configPath, newsletter.PathCause(err))
			}
			if err := writeFileAtomic(a.configPath, []byte(config.Template()), 0o600); err != nil {
				return newsletter.Errorf(newsletter.EINVALID, "write %s: %w", a.configPath, newsletter.PathCause(err))
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

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
