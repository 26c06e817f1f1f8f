package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
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
  GET  /healthz              for load balancers

Put it behind an HTTPS reverse proxy at public_url. Tokens are signed with
unsubscribe.secret and need no login or cookie. --signup=false turns the
sign-up form off.

The form answers every address alike and mails after answering. Confirmation
mails are limited by [signup] client_per_hour (default 5 per client address)
and total_per_hour (default 100); behind a proxy, set client_header (such as
X-Forwarded-For) so the client address comes from it, and only from it.
Bounced and complained addresses get no mail; a confirmation link works once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := subscribers.ValidListName(list); err != nil {
				return usagef("--list: %s", newsletter.ErrorMessage(err))
			}
			ms, err := a.mailSetup(cmd, &f)
			if err != nil {
				return err
			}
			site := web.Site{Name: ms.cfg.Site.Name, URL: ms.cfg.Site.URL, PublicURL: ms.cfg.Site.PublicURL}
			var opts []web.Option
			if signup {
				if err := ms.cfg.Signup.check(ms.cfg.path); err != nil {
					return err
				}
				tr, err := ms.transport(&f)
				if err != nil {
					return err
				}
				opts = append(opts, web.WithSignup(list, ms.sendConfirmation(tr)), web.WithSignupLimits(web.SignupLimits{
					ClientPerHour: ms.cfg.Signup.ClientPerHour,
					TotalPerHour:  ms.cfg.Signup.TotalPerHour,
					ClientHeader:  ms.cfg.Signup.ClientHeader,
				}))
			}
			h := web.New(ms.db, ms.signer, site, a.log, opts...)
			return web.Serve(cmd.Context(), addr, h, func(bound string) {
				a.log.Info("serving subscriber pages", "addr", bound, "public_url", ms.cfg.Site.PublicURL, "signup", signup)
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

// sendConfirmation mails the double opt-in message over tr, one connection
// per message. It holds no name: whatever was typed into the form stays out
// of a mail to an address that may not be the typist's.
func (ms *mailSetup) sendConfirmation(tr mailer.Transport) web.SendConfirmation {
	return func(ctx context.Context, s *newsletter.Subscriber, confirmURL string) error {
		m, err := ms.renderer.Confirm(templates.Reader{Email: s.Email}, confirmURL)
		if err != nil {
			return err
		}
		built, err := ms.builder.Build(&mailer.Message{Campaign: "confirm", ToEmail: s.Email, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
		if err != nil {
			return err
		}
		conn, err := tr.Open(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", tr, err)
		}
		defer conn.Close()
		return conn.Send(ctx, built)
	}
}

// check refuses [signup] values outside a sane range, naming the setting.
func (c SignupConfig) check(file string) error {
	for _, v := range []struct {
		name  string
		value int
	}{{"signup.client_per_hour", c.ClientPerHour}, {"signup.total_per_hour", c.TotalPerHour}} {
		if v.value < 0 || v.value > 1000000 {
			return newsletter.Errorf(newsletter.EINVALID, "config %s: %s must be between 1 and 1000000 (0 or unset: the default)", file, v.name)
		}
	}
	if h := c.ClientHeader; h != "" && strings.ContainsAny(h, " :\t\r\n") {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: signup.client_header %q must be a header name, such as X-Forwarded-For", file, h)
	}
	return nil
}
