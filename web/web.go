// Package web serves the pages a subscriber reaches from a message: one-click
// unsubscribe (RFC 8058), an unsubscribe confirmation page and the category
// preferences page. Links carry a signed token that names the subscriber and
// the list; no login, cookie or session is needed.
package web

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
)

//go:embed pages.html
var pagesFS embed.FS

var pages = template.Must(template.New("pages.html").Funcs(template.FuncMap{
	"contains": func(list []string, s string) bool {
		for _, v := range list {
			if strings.EqualFold(v, s) {
				return true
			}
		}
		return false
	},
}).ParseFS(pagesFS, "pages.html"))

// Site is what the pages say of the sender.
type Site struct {
	Name      string
	URL       string
	PublicURL string // where these pages are reachable; confirmation links point here
}

// SendConfirmation mails a subscriber the link that confirms their
// subscription.
type SendConfirmation func(ctx context.Context, s *newsletter.Subscriber, confirmURL string) error

// Double opt-in timing: a confirmation mail is not sent to the same address
// twice within ConfirmCooldown, and its link works for ConfirmMaxAge.
const (
	ConfirmCooldown = 10 * time.Minute
	ConfirmMaxAge   = 7 * 24 * time.Hour
)

// Handler serves the subscriber pages.
type Handler struct {
	store  newsletter.SubscriberStore
	signer *subscribers.Signer
	site   Site
	log    *slog.Logger
	mux    *http.ServeMux

	list        string // the list the sign-up form joins
	sendConfirm SendConfirmation
	limits      SignupLimits
	limit       *limiter
	archive     Archive // the web archive; nil: not served

	mailing sync.WaitGroup // confirmation mails under way
	mailers chan struct{}  // bounds how many are sent at once
}

// Option configures a Handler.
type Option func(*Handler)

// WithSignup enables the sign-up form (GET/POST /subscribe) and the
// confirmation links (/confirm/TOKEN): readers join list once they
// confirm, by a mail that send delivers. The mail holds the link and the
// address, nothing typed into the form.
func WithSignup(list string, send SendConfirmation) Option {
	return func(h *Handler) { h.list, h.sendConfirm = list, send }
}

// WithSignupLimits sets the limits on confirmation mails; without it the
// defaults hold.
func WithSignupLimits(l SignupLimits) Option {
	return func(h *Handler) { h.limits = l }
}

// New returns the handler.
func New(store newsletter.SubscriberStore, signer *subscribers.Signer, site Site, log *slog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{store: store, signer: signer, site: site, log: log, mux: http.NewServeMux(), mailers: make(chan struct{}, 8)}
	for _, o := range opts {
		o(h)
	}
	if h.sendConfirm != nil {
		h.limit = newLimiter(h.limits)
		h.mux.HandleFunc("GET /subscribe", h.subscribePage)
		h.mux.HandleFunc("POST /subscribe", h.subscribe)
		h.mux.HandleFunc("GET /confirm/{token}", h.confirmPage)
		h.mux.HandleFunc("POST /confirm/{token}", h.confirm)
	}
	h.mux.HandleFunc("GET /unsubscribe/{token}", h.unsubscribePage)
	h.mux.HandleFunc("POST /unsubscribe/{token}", h.unsubscribe)
	h.mux.HandleFunc("GET /preferences/{token}", h.preferencesPage)
	h.mux.HandleFunc("POST /preferences/{token}", h.savePreferences)
	if h.archive != nil {
		h.archiveRoutes()
	}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	return h
}

// pagePolicy is the pages' Content-Security-Policy: nothing loads but
// inline styles, forms post only here, and no page may be framed.
const pagePolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

// maxBody bounds what a form may send.
const maxBody = 64 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// No page may be framed (clickjacking): frame-ancestors for current
	// browsers, X-Frame-Options for older ones.
	w.Header().Set("Content-Security-Policy", pagePolicy)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	h.mux.ServeHTTP(w, r)
}

type pageData struct {
	Site       Site
	Page       string // which block of pages.html
	Email      string
	Status     string
	Categories []string // every category
	Chosen     []string // the subscriber's; empty: all
	Message    string
	Unsub      string // unsubscribe URL path
	Prefs      string // preferences URL path, on the unsubscribe page
	Signup     bool   // the sign-up form is served: offer to subscribe again
}

func (h *Handler) render(w http.ResponseWriter, code int, d pageData) {
	d.Site = h.site
	d.Signup = h.sendConfirm != nil
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := pages.ExecuteTemplate(w, "page", d); err != nil {
		h.log.Error("rendering page", "page", d.Page, "err", err)
	}
}

func (h *Handler) fail(w http.ResponseWriter, code int, msg string) {
	h.render(w, code, pageData{Page: "error", Message: msg})
}

// subscriber verifies the token for purpose and loads its subscriber.
func (h *Handler) subscriber(r *http.Request, purpose string) (*newsletter.Subscriber, subscribers.Token, error) {
	tok, err := h.signer.Verify(purpose, r.PathValue("token"))
	if err != nil {
		return nil, tok, err
	}
	s, err := h.store.SubscriberByID(r.Context(), tok.Subscriber)
	return s, tok, err
}

func (h *Handler) tokenError(w http.ResponseWriter, err error) {
	switch newsletter.ErrorCode(err) {
	case newsletter.ENOTFOUND:
		h.fail(w, http.StatusNotFound, "We have no subscriber for this link any more; you will get no mail from us.")
	case newsletter.EINVALID:
		h.fail(w, http.StatusBadRequest, "This link is not valid. It may be incomplete: try copying the whole link from the message.")
	default:
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
	}
}

// parseForm reads a urlencoded or multipart body; it reports success.
func parseForm(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(maxBody) == nil
	}
	return r.ParseForm() == nil
}

// Serve runs the handler on addr until ctx is cancelled, then shuts down
// gracefully.
func Serve(ctx context.Context, addr string, h http.Handler, ready func(addr string)) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return newsletter.Errorf(newsletter.EINVALID, "--addr %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if d, ok := h.(interface{ Drain() }); ok {
			d.Drain() // confirmation mails under way are finished, not cut
		}
		return err
	}
}
