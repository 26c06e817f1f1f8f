// Package web serves the pages a subscriber reaches from a message: one-click
// unsubscribe (RFC 8058), an unsubscribe confirmation page and the category
// preferences page. Links carry a signed token that names the subscriber and
// the list; no login, cookie or session is needed.
package web

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
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
	h := &Handler{store: store, signer: signer, site: site, log: log, mux: http.NewServeMux()}
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

func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	s, tok, err := h.subscriber(r, subscribers.PurposeUnsubscribe)
	if err != nil {
		h.tokenError(w, err)
		return
	}
	// As the preferences page links here, this page links there.
	prefs := "/preferences/" + h.signer.Sign(subscribers.Token{Purpose: subscribers.PurposePreferences, Subscriber: s.ID, List: tok.List})
	// A GET never unsubscribes: mail scanners follow links.
	h.render(w, http.StatusOK, pageData{Page: "unsubscribe", Email: s.Email, Status: s.Status, Prefs: prefs})
}

// unsubscribe handles the one-click POST of a mailbox provider (body
// List-Unsubscribe=One-Click, form-urlencoded or multipart) and the button of
// the confirmation page. It answers directly, never with a redirect.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	oneClick := parseForm(r) && r.PostFormValue("List-Unsubscribe") == "One-Click"
	s, tok, err := h.subscriber(r, subscribers.PurposeUnsubscribe)
	if err != nil {
		// A removed reader's link answers 404 like any other use of it: it
		// names nobody, and nobody is mailed.
		h.tokenError(w, err)
		return
	}
	if s.Status == newsletter.StatusActive || s.Status == newsletter.StatusUnconfirmed {
		if _, err := h.store.SetSubscriberStatus(context.WithoutCancel(r.Context()), s.Email, newsletter.StatusUnsubscribed); err != nil {
			h.log.Error("unsubscribe", "subscriber", s.ID, "err", err)
			h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
			return
		}
		h.log.Info("unsubscribed", "email", s.Email, "list", tok.List, "one_click", oneClick)
	}
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("Unsubscribed.\n"))
		return
	}
	h.render(w, http.StatusOK, pageData{Page: "unsubscribed", Email: s.Email})
}

func (h *Handler) preferencesPage(w http.ResponseWriter, r *http.Request) {
	s, tok, err := h.subscriber(r, subscribers.PurposePreferences)
	if err != nil {
		h.tokenError(w, err)
		return
	}
	d, err := h.preferencesData(r.Context(), s, tok)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
		return
	}
	h.render(w, http.StatusOK, d)
}

func (h *Handler) savePreferences(w http.ResponseWriter, r *http.Request) {
	s, tok, err := h.subscriber(r, subscribers.PurposePreferences)
	if err != nil {
		h.tokenError(w, err)
		return
	}
	if !parseForm(r) {
		h.fail(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	chosen := r.PostForm["category"]
	if r.PostFormValue("all") == "1" {
		chosen = nil
	}
	if err := h.store.SetSubscriberCategories(context.WithoutCancel(r.Context()), s.ID, chosen); err != nil {
		if newsletter.ErrorCode(err) == newsletter.EINVALID {
			h.fail(w, http.StatusBadRequest, newsletter.ErrorMessage(err))
			return
		}
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
		return
	}
	h.log.Info("preferences saved", "email", s.Email, "categories", strings.Join(chosen, ", "))
	s.Categories = newsletter.UniqueCategories(chosen)
	d, err := h.preferencesData(r.Context(), s, tok)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
		return
	}
	d.Message = "Saved."
	h.render(w, http.StatusOK, d)
}

func (h *Handler) preferencesData(ctx context.Context, s *newsletter.Subscriber, tok subscribers.Token) (pageData, error) {
	cats, err := h.store.Categories(ctx)
	if err != nil {
		return pageData{}, err
	}
	names := categoryNames(cats)
	unsub := h.signer.Sign(subscribers.Token{Purpose: subscribers.PurposeUnsubscribe, Subscriber: s.ID, List: tok.List})
	return pageData{Page: "preferences", Email: s.Email, Status: s.Status, Categories: names, Chosen: s.Categories, Unsub: "/unsubscribe/" + unsub}, nil
}

func (h *Handler) subscribePage(w http.ResponseWriter, r *http.Request) {
	cats, err := h.store.Categories(r.Context())
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
		return
	}
	h.render(w, http.StatusOK, pageData{Page: "subscribe", Categories: categoryNames(cats)})
}

// subscribe takes the sign-up form. Whatever the address's state, the
// answer is the same page with the same status, given before any mail is
// sent, so the form tells nobody who is subscribed.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	if !parseForm(r) {
		h.fail(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	email, err := subscribers.NormalizeEmail(r.PostFormValue("email"))
	if err != nil {
		cats, _ := h.store.Categories(r.Context())
		h.render(w, http.StatusBadRequest, pageData{Page: "subscribe", Categories: categoryNames(cats),
			Message: "Please check the address: " + strings.TrimPrefix(newsletter.ErrorMessage(err), "email ")})
		return
	}
	if !h.limit.allowClient(r) {
		h.fail(w, http.StatusTooManyRequests, "There were too many sign-ups from your network just now; please try again in an hour.")
		return
	}
	chosen := newsletter.UniqueCategories(r.PostForm["category"])
	in := &newsletter.SubscriberInput{Email: email, Name: subscribers.CleanName(r.PostFormValue("name")), HasName: true,
		Categories: chosen, HasCategories: true}
	ctx := context.WithoutCancel(r.Context())
	s, nonce, err := h.store.RequestSubscription(ctx, in, h.list, ConfirmCooldown)
	if err != nil {
		if newsletter.ErrorCode(err) == newsletter.EINVALID {
			h.fail(w, http.StatusBadRequest, newsletter.ErrorMessage(err))
			return
		}
		h.log.Error("subscribe", "err", err)
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
		return
	}
	h.renderNow(w, http.StatusOK, pageData{Page: "check-mail", Email: email})
	if nonce == "" {
		return
	}
	// After the answer: whether and when a mail goes out cannot show in it.
	if !h.limit.allowMail() {
		h.log.Warn("confirmation not sent: over the sign-up limit of all clients", "email", email)
		h.cancel(ctx, s.ID, nonce)
		return
	}
	tok := h.signer.Sign(subscribers.Token{Purpose: subscribers.PurposeConfirm, Subscriber: s.ID, List: h.list, Nonce: nonce})
	link := strings.TrimRight(h.site.PublicURL, "/") + "/confirm/" + tok
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := h.sendConfirm(sctx, &newsletter.Subscriber{ID: s.ID, Email: s.Email, Status: s.Status}, link); err != nil {
		h.log.Error("sending the confirmation", "email", email, "err", err)
		h.cancel(ctx, s.ID, nonce)
		return
	}
	h.log.Info("confirmation sent", "email", email)
}

// sendTimeout bounds the sending of one confirmation mail.
const sendTimeout = time.Minute

// cancel takes back a confirmation that was not mailed, so the next request
// is not held back by the cooldown.
func (h *Handler) cancel(ctx context.Context, id int64, nonce string) {
	if err := h.store.CancelConfirmation(ctx, id, nonce); err != nil {
		h.log.Error("cancelling a confirmation", "subscriber", id, "err", err)
	}
}

// renderNow renders a page and sends it to the client at once, complete
// (with its length), so that work the handler goes on with cannot delay or
// change it.
func (h *Handler) renderNow(w http.ResponseWriter, code int, d pageData) {
	d.Site = h.site
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "page", d); err != nil {
		h.log.Error("rendering page", "page", d.Page, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(code)
	w.Write(b.Bytes())
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	s, _, err := h.subscriber(r, subscribers.PurposeConfirm)
	if err != nil {
		h.tokenError(w, err)
		return
	}
	// As with unsubscribing, a GET changes nothing: scanners follow links.
	// The button shows whatever the status: an active reader may be
	// joining another list.
	h.render(w, http.StatusOK, pageData{Page: "confirm", Email: s.Email})
}

func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	s, tok, err := h.subscriber(r, subscribers.PurposeConfirm)
	if err != nil {
		h.tokenError(w, err)
		return
	}
	changed, err := h.store.ConfirmSubscription(context.WithoutCancel(r.Context()),
		newsletter.Confirmation{Subscriber: s.ID, List: tok.List, Nonce: tok.Nonce}, ConfirmMaxAge)
	if err != nil {
		if newsletter.ErrorCode(err) == newsletter.EINVALID {
			h.fail(w, http.StatusGone, newsletter.ErrorMessage(err))
			return
		}
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
		return
	}
	if changed {
		h.log.Info("subscription confirmed", "email", s.Email, "list", tok.List)
	}
	h.render(w, http.StatusOK, pageData{Page: "confirmed", Email: s.Email})
}

func categoryNames(cats []newsletter.Category) []string {
	names := make([]string, 0, len(cats))
	for _, c := range cats {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
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
		return newsletter.Errorf(newsletter.EINVALID, "--addr %s: %v", addr, err)
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
		return srv.Shutdown(sctx)
	}
}
