package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// SignupLimits bound the confirmation mails the sign-up form sends, so it
// cannot be used to mail strangers. Each is a token bucket refilled evenly
// over the hour; a zero field takes its default.
type SignupLimits struct {
	// ClientPerHour is how many sign-ups one client address may make
	// (default 5). Over it, the form answers 429 whatever the address.
	ClientPerHour int
	// TotalPerHour is how many confirmation mails go out in all (default
	// 100). Over it, the form answers as usual and the mail is not sent.
	TotalPerHour int
	// ClientHeader, when set, names the header a trusted reverse proxy puts
	// the client address in (such as X-Forwarded-For, whose last entry is
	// taken, or X-Real-IP). Unset, the header is ignored and the address is
	// the connection's: a client cannot choose its own.
	ClientHeader string
}

// Default sign-up limits.
const (
	DefaultClientPerHour = 5
	DefaultTotalPerHour  = 100
)

// maxClients bounds the per-client buckets held; full buckets are dropped
// first.
const maxClients = 10000

// limiter holds the sign-up token buckets.
type limiter struct {
	header  string
	perHour int
	total   *rate.Limiter

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newLimiter(l SignupLimits) *limiter {
	if l.ClientPerHour <= 0 {
		l.ClientPerHour = DefaultClientPerHour
	}
	if l.TotalPerHour <= 0 {
		l.TotalPerHour = DefaultTotalPerHour
	}
	return &limiter{
		header:  l.ClientHeader,
		perHour: l.ClientPerHour,
		total:   rate.NewLimiter(rate.Every(time.Hour/time.Duration(l.TotalPerHour)), l.TotalPerHour),
		clients: map[string]*rate.Limiter{},
	}
}

// allowClient takes a token from the bucket of r's client.
func (l *limiter) allowClient(r *http.Request) bool {
	key := l.client(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= maxClients {
			l.prune()
		}
		b = rate.NewLimiter(rate.Every(time.Hour/time.Duration(l.perHour)), l.perHour)
		l.clients[key] = b
	}
	return b.Allow()
}

// prune drops the buckets that have refilled, which is the same as a new
// one; if none has, it drops any, as the total limit still holds.
func (l *limiter) prune() {
	for k, b := range l.clients {
		if b.Tokens() >= float64(l.perHour) {
			delete(l.clients, k)
		}
	}
	for k := range l.clients {
		if len(l.clients) < maxClients {
			break
		}
		delete(l.clients, k)
	}
}

// allowMail takes a token from the bucket of all confirmation mails.
func (l *limiter) allowMail() bool { return l.total.Allow() }

// client returns the key of r's client: its IP address, an IPv6 address
// cut to its /64 (one host usually holds the whole of it).
func (l *limiter) client(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if l.header != "" {
		if v := r.Header.Values(l.header); len(v) > 0 {
			// A proxy appends the address it saw: the last entry is the
			// one the client could not write.
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			addr = strings.TrimSpace(last)
			// Some proxies write the port too: 203.0.113.7:40001,
			// [2001:db8::1]:40001.
			if host, _, err := net.SplitHostPort(addr); err == nil {
				addr = host
			}
			addr = strings.Trim(addr, "[]")
		}
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		// Not an address: one bucket for all such values, so that
		// changing the text cannot make a new client.
		return "unparsed"
	}
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}
