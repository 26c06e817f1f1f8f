package bounces

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/example/newsletter"
)

// ProcessedFlag is the keyword Fetch sets on each message it processed, so
// the next fetch skips it.
const ProcessedFlag = imap.Flag("$NewsletterProcessed")

// FetchOptions say which IMAP mailbox Fetch reads.
type FetchOptions struct {
	// URL is imaps://USER@HOST[:993]/MAILBOX (implicit TLS) or
	// imap://USER@HOST[:143]/MAILBOX (STARTTLS, or plain text with
	// ?tls=none). ?move=FOLDER moves each processed message there instead
	// of flagging it. The mailbox defaults to INBOX.
	URL string
	// Password is used when the URL has none (NEWSLETTER_IMAP_PASSWORD).
	Password string
	// TLSConfig trusts a private CA; nil uses the system's roots.
	TLSConfig *tls.Config
}

// batch is how many messages are fetched at once.
const batch = 50

// Fetch processes every message of an IMAP mailbox not processed before,
// then flags it ProcessedFlag and \Seen, or moves it to ?move=FOLDER. A
// message is flagged only once its report is recorded.
func (p *Processor) Fetch(ctx context.Context, opts FetchOptions) (Outcome, error) {
	var total Outcome
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "imap" && u.Scheme != "imaps") || u.Host == "" || u.User == nil {
		return total, newsletter.Errorf(newsletter.EINVALID, "bounces.imap %q must look like imaps://user@mail.example.org/INBOX", opts.URL)
	}
	user := u.User.Username()
	pass, ok := u.User.Password()
	if !ok {
		pass = opts.Password
	}
	if pass == "" {
		return total, newsletter.Errorf(newsletter.EINVALID, "no IMAP password: set NEWSLETTER_IMAP_PASSWORD")
	}
	mailbox := strings.TrimPrefix(u.Path, "/")
	if mailbox == "" {
		mailbox = "INBOX"
	}
	q := u.Query()
	move := q.Get("move")
	c, err := dialIMAP(ctx, u, q.Get("tls"), opts.TLSConfig)
	if err != nil {
		return total, newsletter.Errorf(newsletter.EINVALID, "IMAP %s: %w", u.Host, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(user, pass).Wait(); err != nil {
		return total, newsletter.Errorf(newsletter.EINVALID, "IMAP %s: login as %s refused (%v); check the user in bounces.imap and NEWSLETTER_IMAP_PASSWORD", u.Host, user, err)
	}
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		return total, newsletter.Errorf(newsletter.EINVALID, "IMAP %s: mailbox %s: %w", u.Host, mailbox, err)
	}
	if move != "" {
		c.Create(move, nil).Wait() // exists already, most often
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{ProcessedFlag, imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return total, err
	}
	uids := found.AllUIDs()
	section := &imap.FetchItemBodySection{Peek: true}
	for len(uids) > 0 {
		n := min(batch, len(uids))
		msgs, err := c.Fetch(imap.UIDSetNum(uids[:n]...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		uids = uids[n:]
		if err != nil {
			return total, err
		}
		var done imap.UIDSet
		for _, m := range msgs {
			o, err := p.ProcessMessage(ctx, "imap", m.FindBodySection(section))
			total.Add(o)
			if err != nil {
				p.finish(c, done, move)
				return total, err
			}
			done.AddNum(m.UID)
		}
		if err := p.finish(c, done, move); err != nil {
			return total, err
		}
	}
	c.Logout().Wait()
	return total, ctx.Err()
}

// finish flags or moves the messages processed.
func (p *Processor) finish(c *imapclient.Client, done imap.UIDSet, move string) error {
	if len(done) == 0 {
		return nil
	}
	if err := c.Store(done, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{ProcessedFlag, imap.FlagSeen}}, nil).Close(); err != nil {
		return err
	}
	if move != "" {
		if _, err := c.Move(done, move).Wait(); err != nil {
			return err
		}
	}
	return nil
}

func dialIMAP(ctx context.Context, u *url.URL, tlsMode string, conf *tls.Config) (*imapclient.Client, error) {
	host := u.Hostname()
	if conf == nil {
		conf = &tls.Config{}
	} else {
		conf = conf.Clone()
	}
	if conf.ServerName == "" {
		conf.ServerName = host
	}
	opts := &imapclient.Options{TLSConfig: conf, Dialer: &net.Dialer{}}
	port := u.Port()
	switch {
	case u.Scheme == "imaps":
		if port == "" {
			port = "993"
		}
		return imapclient.DialTLS(net.JoinHostPort(host, port), opts)
	case tlsMode == "none":
		if port == "" {
			port = "143"
		}
		return imapclient.DialInsecure(net.JoinHostPort(host, port), opts)
	default:
		if port == "" {
			port = "143"
		}
		return imapclient.DialStartTLS(net.JoinHostPort(host, port), opts)
	}
}
