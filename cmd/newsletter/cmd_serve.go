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
		Long: `serve answers the links in every message, under site.public_url:

  POST /unsubscribe/TOKEN    one-click unsubscribe (RFC 8058), as Gmail and
                             Yahoo send it, and the button of the page below
  GET  /unsubscribe/TOKEN    a page that asks before unsubscribing (a GET never
                             unsubscribes: mail scanners follow links)
  GET  /preferences/TOKEN    choose categories; POST saves them
  GET  /subscribe            the sign-up form (double opt-in): POST sends a
                             confirmation mail through the transport
  GET  /confirm/TOKEN        asks to confirm; POST makes the reader active
  GET  /  and  /archive      the web archive: past issues, newest first
  GET  /archive/N            issue N as a reader of every category got it
  GET  /articles/SLUG        the full text of an article with no URL of its own
  GET  /feed.xml             an Atom feed of the issues
  GET  /healthz              for load balancers

Put it behind an HTTPS reverse proxy at public_url. Tokens are signed with
unsubscribe.secret and need no login or cookie. --signup=false turns the
sign-up form off.

The form answers every address alike and mails after answering. Confirmation
mails are limited by [signup] client_per_hour (default 5 per client address)
and total_per_hour (default 100); behind a proxy, set client_header (such as
X-Forwarded-For) so the client address comes from it, and only from it.
Bounced and complained addresses get no mail; a confirmation link works once.
site.archive = false turns the archive off (the archive pages carry no
reader's token).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := subscribers.ValidListName(list); err != nil {
				return usagef("--list: %s", newsletter.ErrorMessage(err))
			}
			svc, err := a.service(cmd, &f, signup)
			if err != nil {
				return err
			}
			cfg := a.cfg
			site := web.Site{Name: cfg.Site.Name, URL: cfg.Site.URL, PublicURL: cfg.Site.PublicURL}
			var opts []web.Option
			if signup {
				opts = append(opts, web.WithSignup(list, svc.SendConfirmation), web.WithSignupLimits(web.SignupLimits{
					ClientPerHour: cfg.Signup.ClientPerHour,
					TotalPerHour:  cfg.Signup.TotalPerHour,
					ClientHeader:  cfg.Signup.ClientHeader,
				}))
			}
			if cfg.Site.ArchiveOn() {
				opts = append(opts, web.WithArchive(svc))
			}
			h := web.New(svc.DB, svc.Signer, site, a.log, opts...)
			return web.Serve(cmd.Context(), addr, a.withWebhooks(cmd, h), func(bound string) {
				a.log.Info("serving subscriber pages", "addr", bound, "public_url", cfg.Site.PublicURL, "signup", signup)
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
