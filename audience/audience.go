package audience

import (
	"context"
	"io"
	"os"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
)

// Service administers subscribers in the store.
type Service struct {
	DB *sqlite.DB
}

// New returns the service over db.
func New(db *sqlite.DB) *Service {
	return &Service{DB: db}
}

// AddRequest is one subscriber to add or update. Email is normalised; Name
// and Categories are as the user typed them.
type AddRequest struct {
	Email         string
	Name          string
	HasName       bool // Name was given, even empty
	Categories    string
	HasCategories bool // Categories was given, even empty
	Status        string
	Lists         []string
	// Resubscribe makes an unsubscribed, bounced or complained address
	// active again: only at that person's request.
	Resubscribe bool
}

// Add adds a subscriber, or updates a known one, and says which it did.
func (s *Service) Add(ctx context.Context, r AddRequest) (newsletter.UpsertResult, error) {
	in := &newsletter.SubscriberInput{
		Email:         r.Email,
		Name:          subscribers.CleanName(r.Name),
		HasName:       r.HasName,
		Categories:    newsletter.SplitCategories(r.Categories, ",;|"),
		HasCategories: r.HasCategories,
		Status:        r.Status,
	}
	return s.DB.AddSubscriber(ctx, in, r.Lists, r.Resubscribe)
}

// Source is a file (or stdin) of subscribers to import, its format known.
type Source struct {
	// Name is the file's name, "-" for stdin.
	Name string
	*subscribers.Reader
	closer io.Closer
}

// OpenSource opens the file name ("-" reads stdin) and recognises its format:
// from names another service's export (mailchimp, listmonk, substack), or is
// empty to recognise it by the header.
func OpenSource(name string, stdin io.Reader, from string) (*Source, error) {
	src := &Source{Name: name}
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, newsletter.Errorf(newsletter.EINVALID, "%s: %w", name, newsletter.PathCause(err))
		}
		src.closer = f
		r = f
	}
	rd, err := subscribers.NewReaderFrom(r, from)
	if err != nil {
		src.Close()
		return nil, newsletter.Errorf(newsletter.EINVALID, "%s: %s", name, newsletter.ErrorMessage(err))
	}
	src.Reader = rd
	return src, nil
}

// Close closes the file.
func (src *Source) Close() error {
	if src.closer == nil {
		return nil
	}
	return src.closer.Close()
}

// Import stores the rows of src. The export of another service joins
// newsletter.DefaultList when opts names no list (the service's tags and
// lists are added to it). The counts are nil when the import failed; an
// import where no row could be stored returns them with an error, unless
// opts.Strict made it store nothing on purpose.
func (s *Service) Import(ctx context.Context, src *Source, opts newsletter.ImportOptions) (*newsletter.ImportCounts, error) {
	if src.Format() != "" && len(opts.Lists) == 0 {
		opts.Lists = []string{newsletter.DefaultList}
	}
	counts, err := s.DB.ImportSubscribers(ctx, src.Inputs(), opts)
	if err != nil {
		return nil, err
	}
	if counts.Added+counts.Updated+counts.Unchanged == 0 && !opts.Strict {
		return &counts, newsletter.Errorf(newsletter.EINVALID, "%s: no row could be imported; see the reasons above", src.Name)
	}
	return &counts, nil
}

// Export writes the subscribers filter selects to w as re-importable CSV.
// With raw, cells are written as stored, without the ' that keeps
// spreadsheets from reading formulas.
func (s *Service) Export(ctx context.Context, w io.Writer, filter newsletter.SubscriberFilter, raw bool) error {
	cw, err := subscribers.NewWriter(w)
	if err != nil {
		return err
	}
	cw.Raw = raw
	if err := s.DB.EachSubscriber(ctx, filter, cw.Write); err != nil {
		return err
	}
	return cw.Flush()
}

// Unsubscribe marks the address unsubscribed, so it receives nothing more,
// and reports whether it was not already.
func (s *Service) Unsubscribe(ctx context.Context, email string) (changed bool, err error) {
	return s.DB.SetSubscriberStatus(ctx, email, newsletter.StatusUnsubscribed)
}

// Remove deletes the subscriber. It returns the status under which the
// address stays suppressed, so it is not mailed again, or "" when it is not
// remembered. With forget (an erasure request) the suppression entry goes
// too and the delivery log keeps only the address's hash.
func (s *Service) Remove(ctx context.Context, email string, forget bool) (remembered string, err error) {
	if forget {
		return "", s.DB.ForgetSubscriber(ctx, email)
	}
	return s.DB.RemoveSubscriber(ctx, email)
}
