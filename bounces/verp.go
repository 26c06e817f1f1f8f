package bounces

import (
	"crypto/subtle"
	"encoding/base32"
	"regexp"
	"strconv"
	"strings"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
)

// purposeVERP binds a VERP token's MAC: a link token never verifies as one.
const purposeVERP = "verp"

// verpMACLen is how many bytes of MAC a token keeps: 64 bits is far more
// than anyone can guess by mailing bounces, and keeps the local part short.
const verpMACLen = 8

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// tokenPattern finds a VERP token after the "+" of an address. Tokens are
// lower case so an MTA that folds the local part's case keeps them valid.
var tokenPattern = regexp.MustCompile(`(?i)\+([0-9a-z]{1,13}-[a-z2-7]{13})@`)

// VERP makes and checks the envelope senders that name a delivery:
// LOCAL+TOKEN@DOMAIN, where TOKEN is the delivery id and a MAC made with
// the link secret. A bounce to a token that does not verify is ignored.
type VERP struct {
	local, domain string
	signer        *subscribers.Signer
}

// NewVERP returns the VERP scheme for a return path such as
// "bounces@example.org".
func NewVERP(returnPath string, signer *subscribers.Signer) (*VERP, error) {
	local, domain, ok := strings.Cut(strings.TrimSpace(returnPath), "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(returnPath, "+<> \t") {
		return nil, newsletter.Errorf(newsletter.EINVALID, "bounces.return_path %q must be a plain address without a \"+\", like bounces@example.org", returnPath)
	}
	if signer == nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "VERP needs the link secret (unsubscribe.secret)")
	}
	return &VERP{local: local, domain: domain, signer: signer}, nil
}

// Address returns the envelope sender of a delivery's message.
func (v *VERP) Address(deliveryID int64) string {
	return v.local + "+" + v.Token(deliveryID) + "@" + v.domain
}

// Token returns the token that names a delivery.
func (v *VERP) Token(deliveryID int64) string {
	id := strconv.FormatInt(deliveryID, 36)
	return id + "-" + v.mac(id)
}

// mac derives the token's MAC from the signer's HMAC of the delivery id
// under its own purpose.
func (v *VERP) mac(id string) string {
	signed := v.signer.Sign(subscribers.Token{Purpose: purposeVERP, Subscriber: mustParse36(id)})
	_, m, _ := strings.Cut(signed, ".")
	raw, _ := base64URL.DecodeString(m)
	if len(raw) > verpMACLen {
		raw = raw[:verpMACLen]
	}
	return b32.EncodeToString(raw)
}

// Verify returns the delivery a token names, and false for a token that
// was not made with this secret.
func (v *VERP) Verify(token string) (int64, bool) {
	token = strings.ToLower(token)
	idText, mac, ok := strings.Cut(token, "-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(idText, 36, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	want := v.mac(strconv.FormatInt(id, 36))
	if subtle.ConstantTimeCompare([]byte(want), []byte(mac)) != 1 {
		return 0, false
	}
	return id, true
}

// FindTokens returns the VERP tokens in the addresses of s, in order.
func FindTokens(s string) []string {
	var out []string
	for _, m := range tokenPattern.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.ToLower(m[1]))
	}
	return out
}

// addresses collects the VERP tokens and the plus addresses in s.
func (p *parser) addresses(s string) {
	p.rep.Tokens = append(p.rep.Tokens, FindTokens(s+"@")...)
	p.rep.ReturnPaths = append(p.rep.ReturnPaths, findPlusAddresses(s)...)
}

// plusAddress finds the addresses with a "+" in the local part.
var plusAddress = regexp.MustCompile(`[^\s<>"'@:;,()\[\]]+\+[^\s<>"'@:;,()\[\]]*@[A-Za-z0-9.-]+`)

// findPlusAddresses returns the addresses with a "+" in the local part in
// s, in lower case: those VERP addresses are among.
func findPlusAddresses(s string) []string {
	out := plusAddress.FindAllString(s, 16)
	for i, a := range out {
		out[i] = strings.ToLower(a)
	}
	return out
}

// Claims reports whether addr has the form of this scheme's addresses,
// LOCAL+anything@DOMAIN, also when a forwarder rewrote it with SRS
// (SRS0=HASH=TT=DOMAIN=LOCAL+anything@forwarder). A report to such an
// address whose token does not verify is forged.
func (v *VERP) Claims(addr string) bool {
	at := strings.LastIndex(addr, "@")
	if at < 0 {
		return false
	}
	local, domain := addr[:at], addr[at+1:]
	base, _, ok := strings.Cut(local, "+")
	if !ok {
		return false
	}
	if f := strings.Split(base, "="); len(f) >= 3 {
		base, domain = f[len(f)-1], f[len(f)-2]
	}
	return strings.EqualFold(base, v.local) && strings.EqualFold(domain, v.domain)
}

func mustParse36(s string) int64 {
	n, _ := strconv.ParseInt(s, 36, 64)
	return n
}
