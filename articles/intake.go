package articles

import (
	"context"

	"github.com/example/newsletter"
)

// Store keeps articles; the sqlite store implements it.
type Store interface {
	// UpsertArticles stores the articles in one transaction and says what
	// storing each did.
	UpsertArticles(ctx context.Context, as []*newsletter.Article) ([]newsletter.UpsertResult, error)
}

// LoadAll loads every source like Load, all or nothing: when any source is
// invalid it calls onInvalid with each error and returns an error that says
// nothing will be stored.
func (l *Loader) LoadAll(ctx context.Context, args []string, onInvalid func(error)) ([]*newsletter.Article, error) {
	list, errs := l.Load(ctx, args)
	if len(errs) > 0 {
		for _, e := range errs {
			onInvalid(e)
		}
		return nil, newsletter.Errorf(newsletter.EINVALID, "%d invalid source(s); nothing was stored", len(errs))
	}
	return list, nil
}

// Intake is what storing a batch of articles did: Results[i] is the
// outcome of Articles[i].
type Intake struct {
	Articles []*newsletter.Article
	Results  []newsletter.UpsertResult
}

// StoreAll stores the articles in store.
func StoreAll(ctx context.Context, store Store, list []*newsletter.Article) (*Intake, error) {
	results, err := store.UpsertArticles(ctx, list)
	if err != nil {
		return nil, err
	}
	return &Intake{Articles: list, Results: results}, nil
}

// Count returns how many articles had the outcome r.
func (in *Intake) Count(r newsletter.UpsertResult) int {
	n := 0
	for _, got := range in.Results {
		if got == r {
			n++
		}
	}
	return n
}
