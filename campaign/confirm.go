package campaign

import (
	"context"
	"fmt"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/templates"
)

// SendConfirmation mails the double opt-in message to a new subscriber over
// its own connection. It records nothing in the delivery log, and holds no
// name: whatever was typed into the form stays out of a mail to an address
// that may not be the typist's.
func (s *Service) SendConfirmation(ctx context.Context, sub *newsletter.Subscriber, confirmURL string) error {
	m, err := s.Renderer.Confirm(templates.Reader{Email: sub.Email}, confirmURL)
	if err != nil {
		return err
	}
	built, err := s.Builder.Build(&mailer.Message{Campaign: "confirm", ToEmail: sub.Email, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
	if err != nil {
		return err
	}
	conn, err := s.Transport.Open(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Transport, err)
	}
	defer conn.Close()
	return conn.Send(ctx, built)
}
