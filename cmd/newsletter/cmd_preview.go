package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/internal/atomicfile"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/subscribers"
)

func (a *app) previewCommand() *cobra.Command {
	var f mailFlags
	var to, list, since, out string
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Show the digest a reader would get now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sinceT, err := parseDateFlag("since", since)
			if err != nil {
				return err
			}
			if sinceT.IsZero() {
				sinceT = campaign.DefaultSince(a.now())
			}
			svc, err := a.service(cmd, &f, false)
			if err != nil {
				return err
			}
			email := ""
			if to != "" {
				if email, err = subscribers.NormalizeEmail(to); err != nil {
					return usagef("--to: %s", newsletter.ErrorMessage(err))
				}
			}
			built, r, err := svc.PreviewDigest(ctx, list, sinceT, email)
			if err != nil {
				return err
			} else if built == nil {
				a.infof("nothing new for %s in list %s since %s", r.Email, list, sinceT.Format(newsletter.DateLayout))
				return nil
			}
			return a.writePreview(built, r.Email, out)
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVar(&to, "to", "", "the subscriber's `EMAIL` (default: a sample reader of every category)")
	cmd.Flags().StringVar(&list, "list", newsletter.DefaultList, "the `list`")
	cmd.Flags().StringVar(&since, "since", "", "articles published on or after `DATE` (YYYY-MM-DD; default 7 days ago)")
	cmd.Flags().StringVar(&out, "out", "", "write <address>.eml, .html and .txt into `DIR`")
	return cmd
}

func (a *app) writePreview(b *mailer.Built, email, out string) error {
	raw, err := b.Bytes()
	if err != nil {
		return err
	}
	text, html, err := mailer.Parts(raw)
	if err != nil {
		return err
	}
	if out == "" {
		_, err := fmt.Fprint(a.stdout, text)
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return newsletter.Errorf(newsletter.EINVALID, "--out %s: %w", out, newsletter.PathCause(err))
	}
	base := filepath.Join(out, email)
	for ext, data := range map[string][]byte{".eml": raw, ".html": []byte(html), ".txt": []byte(text)} {
		if err := atomicfile.Write(base+ext, data, 0o644); err != nil {
			return newsletter.Errorf(newsletter.EINVALID, "write %s: %w", base+ext, newsletter.PathCause(err))
		}
	}
	a.infof("wrote %s.eml, .html and .txt", base)
	return nil
}
