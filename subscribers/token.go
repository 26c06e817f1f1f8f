package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/example/newsletter"
)

// Purposes a token is bound to: a token made for one is refused for another.
const (
	PurposeUnsubscribe = "unsubscribe"
	PurposePreferences = "preferences"
	PurposeConfirm     = "confirm"
)

// Token is what a signed link carries: who, for what, and on which list.
type Token struct {
	Purpose    string
	Subscriber int64
	List       string
	// Nonce makes a confirmation link single-use: the store keeps the
	// nonce of the link it mailed last and forgets it once used. Only
	// PurposeConfirm tokens have one, and they must.
	Nonce string
}

// ErrBadToken is returned for any token that does not verify. It says no
// more, on purpose: a forger learns nothing from it.
var ErrBadToken = newsletter.Errorf(newsletter.EINVALID, "this link is not valid (it may be incomplete or out of date)")

// macLen is how many bytes of the HMAC-SHA256 a token keeps (128 bits).
const macLen = 16

var b64 = base64.RawURLEncoding.Strict()

// Signer makes and checks tokens with one secret.
type Signer struct {
	key []byte
}

// NewSigner returns a signer for a secret given as hex (as init writes it).
func NewSigner(secretHex string) (*Signer, error) {
	key, err := hex.DecodeString(secretHex)
	if err != nil || len(key) < 16 {
		return nil, invalid("unsubscribe.secret must be at least 32 hex digits")
	}
	return &Signer{key: key}, nil
}

// Sign returns a URL-safe token for t. The payload is "ID.LIST", or
// "ID.NONCE.LIST" for a confirmation (a nonce is URL-safe base64, so holds
// no dot; a list name may). A confirmation with a malformed nonce is signed
// without it, so that it never verifies.
func (s *Signer) Sign(t Token) string {
	payload := strconv.FormatInt(t.Subscriber, 36) + "."
	if t.Purpose == PurposeConfirm {
		if validNonce(t.Nonce) {
			payload += t.Nonce
		}
		payload += "."
	}
	payload += t.List
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(s.mac(t.Purpose, payload))
}

// Verify checks tok was signed by this secret for purpose and returns what
// it carries. The MAC is compared in constant time.
func (s *Signer) Verify(purpose, tok string) (Token, error) {
	p, m, ok := strings.Cut(tok, ".")
	if !ok {
		return Token{}, ErrBadToken
	}
	payload, err1 := b64.DecodeString(p)
	mac, err2 := b64.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(purpose, string(payload))) {
		return Token{}, ErrBadToken
	}
	idText, list, _ := strings.Cut(string(payload), ".")
	id, err := strconv.ParseInt(idText, 36, 64)
	if err != nil || id <= 0 {
		return Token{}, ErrBadToken
	}
	t := Token{Purpose: purpose, Subscriber: id, List: list}
	if purpose == PurposeConfirm {
		// Confirmation links mailed before nonces existed are refused:
		// they could be used again and again.
		var ok bool
		if t.Nonce, t.List, ok = strings.Cut(list, "."); !ok || !validNonce(t.Nonce) || t.List == "" {
			return Token{}, ErrBadToken
		}
	}
	return t, nil
}

// validNonce reports whether n is 8 to 64 characters of URL-safe base64.
func validNonce(n string) bool {
	if len(n) < 8 || len(n) > 64 {
		return false
	}
	for _, c := range []byte(n) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Signer) mac(purpose, payload string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)[:macLen]
}
