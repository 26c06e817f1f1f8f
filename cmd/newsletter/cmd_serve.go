package main

import (
	"github.com/spf13/cobra"

	"github.com/example/newsletter/web"
)

func (a *app) serveCommand() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the subscriber pages: one-click unsubscribe and preferences",
		Long: `serve answers the links in every message, under site.public_url:

  POST /unsubscribe/TOKEN    one-click unsubscribe (RFC 8058), as Gmail and
                             Yahoo send it, and the button of the page below
  GET  /unsubscribe/TOKEN    a page that asks before unsubscribing (a GET never
                             unsubscribes: mail scanners follow links)
  GET  /preferences/TOKEN    choose categories; POST saves them
  GET  /healthz              for load balancers

Put it behind an HTTPS reverse proxy at public_url. Tokens are signed with
unsubscribe.secret and need no login or cookie.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			db, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			signer, err := linkSigner(cmd.Context(), cfg, db)
			if err != nil {
				return err
			}
			h := web.New(db, signer, web.Site{Name: cfg.Site.Name, URL: cfg.Site.URL}, a.log)
			return web.Serve(cmd.Context(), addr, h, func(bound string) {
				a.log.Info("serving subscriber pages", "addr", bound, "public_url", cfg.Site.PublicURL)
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "`HOST:PORT` to listen on")
	return cmd
}
