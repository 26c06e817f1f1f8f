package main

import (
	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/web"
)

func (a *app) serveCommand() *cobra.Command {
	var addr, list string
	var f mailFlags
	var signup bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the subscriber pages: one-click unsubscribe, preferences, sign-up",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := subscribers.ValidListName(list); err != nil {
				return usagef("--list: %s", newsletter.ErrorMessage(err))
			}
			svc, err := a.service(cmd, &f, signup)
			if err != nil {
				return err
			}
			return web.Serve(cmd.Context(), addr, svc.Handler(list, signup), func(bound string) {
				a.log.Info("serving subscriber pages", "addr", bound, "public_url", a.cfg.Site.PublicURL, "signup", signup)
			})
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVar(&f.transport, "transport", "", "where confirmation mail goes (default: transport.url)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "`HOST:PORT` to listen on")
	cmd.Flags().StringVar(&list, "list", newsletter.DefaultList, "the `list` the sign-up form joins")
	cmd.Flags().BoolVar(&signup, "signup", true, "serve the sign-up form and confirmation links")
	return cmd
}
