package web

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
)

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

func categoryNames(cats []newsletter.Category) []string {
	names := make([]string, 0, len(cats))
	for _, c := range cats {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}
