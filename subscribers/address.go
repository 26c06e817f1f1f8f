package subscribers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"golang.org/x/net/idna"

	"github.com/example/newsletter"
)

// Limits on addresses (RFC 5321 section 4.5.3.1).
const (
	MaxAddress   = 254
	MaxLocalPart = 64
	MaxName      = 200
)

// atext are the characters a dot-atom local part may hold besides letters
// and digits (RFC 5322 section 3.2.3).
const atext = "!#$%&'*+-/=?^_`{|}~"

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// NormalizeEmail trims and lower-cases an address and checks it is a bare
// RFC 5322 addr-spec with a dotted domain: no display name, comment, angle
// brackets, spaces or address literal. The domain is given in its one ASCII
// form (IDNA A-labels: bücher.example becomes xn--bcher-kva.example), so a
// mailbox written either way is one address; a non-ASCII local part is
// brought to Unicode NFC (RFC 6532 3.1), so "josé" typed with a combining
// accent is the same address as "josé" typed precomposed. The error says
// what is wrong.
func NormalizeEmail(s string) (string, error) {
	addr := strings.TrimSpace(s)
	if addr == "" {
		return "", invalid("email is empty")
	}
	if !utf8.ValidString(addr) {
		return "", invalid("email is not UTF-8")
	}
	if strings.ContainsAny(addr, "<>()") {
		return "", invalid("email %q must be a bare address, without a name, comment or angle brackets", clipQuote(addr))
	}
	for _, r := range addr {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", invalid("email %q contains white space or a control character", clipQuote(addr))
		}
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", invalid("email %q has no @", clipQuote(addr))
	}
	local, domain := norm.NFC.String(addr[:at]), addr[at+1:]
	if err := checkLocal(local, addr); err != nil {
		return "", err
	}
	domain, err := checkDomain(strings.ToLower(domain), addr)
	if err != nil {
		return "", err
	}
	out := strings.ToLower(local) + "@" + domain
	if len(out) > MaxAddress {
		return "", invalid("email %q is longer than %d characters", clipQuote(addr), MaxAddress)
	}
	return out, nil
}

func checkLocal(local, addr string) error {
	switch {
	case local == "":
		return invalid("email %q has nothing before the @", clipQuote(addr))
	case len(local) > MaxLocalPart:
		return invalid("email %q: the part before the @ is longer than %d characters", clipQuote(addr), MaxLocalPart)
	case local[0] == '"':
		// A quoted string: printable ASCII; '\' escapes the next character.
		if len(local) < 2 || local[len(local)-1] != '"' {
			return invalid("email %q has an unclosed quote", clipQuote(addr))
		}
		inner := local[1 : len(local)-1]
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			switch {
			case c == '\\':
				if i+1 == len(inner) {
					return invalid("email %q ends its quoted part with a backslash", clipQuote(addr))
				}
				i++
			case c == '"':
				return invalid("email %q has a quote inside its quoted part", clipQuote(addr))
			case c < 0x21 || c > 0x7e:
				return invalid("email %q has a character not allowed in a quoted part", clipQuote(addr))
			}
		}
		return nil
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return invalid("email %q: dots before the @ may not lead, trail or double", clipQuote(addr))
	}
	for _, r := range local {
		if r == '.' || r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(atext, r)) {
			continue
		}
		if r >= utf8.RuneSelf && unicode.IsPrint(r) { // RFC 6531 internationalised local parts
			continue
		}
		return invalid("email %q has %q before the @", clipQuote(addr), r)
	}
	return nil
}

// checkDomain checks a lower-case domain and returns its ASCII form.
func checkDomain(domain, addr string) (string, error) {
	switch {
	case domain == "":
		return "", invalid("email %q has no domain after the @", clipQuote(addr))
	case strings.HasPrefix(domain, "["):
		return "", invalid("email %q: address literals are not accepted; use a domain name", clipQuote(addr))
	case strings.HasSuffix(domain, "."):
		return "", invalid("email %q: the domain ends with a dot", clipQuote(addr))
	case !strings.Contains(domain, "."):
		return "", invalid("email %q: the domain needs a dot (like example.org)", clipQuote(addr))
	}
	ascii, err := idnaProfile.ToASCII(domain)
	if err != nil {
		return "", invalid("email %q: the domain is not valid", clipQuote(addr))
	}
	if strings.HasSuffix(ascii, ".") || !strings.Contains(ascii, ".") {
		// A full stop in another script (such as 。) maps to a dot.
		return "", invalid("email %q: the domain needs a dot between its parts and none at the end", clipQuote(addr))
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", invalid("email %q: the domain has an empty, over-long or hyphen-edged part", clipQuote(addr))
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", invalid("email %q: the domain has %q", clipQuote(addr), c)
			}
		}
	}
	if tld := ascii[strings.LastIndexByte(ascii, '.')+1:]; strings.Trim(tld, "0123456789") == "" {
		return "", invalid("email %q: the domain's last part cannot be a number", clipQuote(addr))
	}
	return ascii, nil
}

// CleanName removes control characters (CR and LF included), collapses
// white space, trims, and caps the name at MaxName characters.
func CleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200d':
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxName {
		s = strings.TrimSpace(string([]rune(s)[:MaxName]))
	}
	return s
}

func invalid(format string, args ...any) error {
	return newsletter.Errorf(newsletter.EINVALID, format, args...)
}

func clipQuote(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		return string([]rune(s)[:80]) + "…"
	}
	return s
}
