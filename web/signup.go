package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
)

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
	// The mail goes out after the handler has returned: a request that
	// follows on the same connection is not held back by it, so its
	// timing cannot tell a new address from a known one either.
	h.mailing.Add(1)
	go func() {
		defer h.mailing.Done()
		h.mailers <- struct{}{}
		defer func() { <-h.mailers }()
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		if err := h.sendConfirm(sctx, &newsletter.Subscriber{ID: s.ID, Email: s.Email, Status: s.Status}, link); err != nil {
			h.log.Error("sending the confirmation", "email", email, "err", err)
			h.cancel(ctx, s.ID, nonce)
			return
		}
		h.log.Info("confirmation sent", "email", email)
	}()
}

// Drain waits for the confirmation mails under way.
func (h *Handler) Drain() { h.mailing.Wait() }

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
