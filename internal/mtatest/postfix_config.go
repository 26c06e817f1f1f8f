package mtatest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func (p *Postfix) mainCF(opts PostfixOptions) map[string]string {
	local := opts.LocalDomains
	if len(local) == 0 && opts.RelayHost != "" {
		local = []string{DefaultBounceDomain}
	}
	domains := "regexp:" + filepath.Join(p.ConfigDir, "all_domains")
	if len(local) > 0 {
		domains = strings.Join(append(append([]string{}, local...), p.hostname), ", ")
	}
	m := map[string]string{
		"compatibility_level":                 "3.6",
		"queue_directory":                     p.QueueDir,
		"data_directory":                      filepath.Join(p.Root, "data"),
		"mail_owner":                          "postfix",
		"setgid_group":                        "postdrop",
		"maillog_file":                        p.LogFile(),
		"maillog_file_prefixes":               p.Root,
		"myhostname":                          p.hostname,
		"mydomain":                            p.hostname,
		"myorigin":                            "$myhostname",
		"mydestination":                       "",
		"inet_interfaces":                     "loopback-only",
		"inet_protocols":                      "ipv4",
		"mynetworks":                          "127.0.0.0/8",
		"smtpd_relay_restrictions":            "permit_mynetworks, reject_unauth_destination",
		"smtpd_peername_lookup":               "no",
		"smtpd_banner":                        "$myhostname ESMTP mtatest",
		"alias_maps":                          "",
		"alias_database":                      "",
		"biff":                                "no",
		"append_dot_mydomain":                 "no",
		"recipient_delimiter":                 "+",
		"virtual_mailbox_domains":             domains,
		"virtual_mailbox_maps":                "regexp:" + filepath.Join(p.ConfigDir, "mailboxes"),
		"virtual_transport":                   "maildir",
		"maildir_destination_recipient_limit": "1",
		"message_size_limit":                  "52428800",
	}
	for k, v := range queueAndTransportCF {
		m[k] = v
	}
	if opts.RelayHost != "" {
		h, port, err := net.SplitHostPort(opts.RelayHost)
		if err != nil {
			h, port = opts.RelayHost, "25"
		}
		m["relayhost"] = "[" + h + "]:" + port
	}
	if opts.TLS {
		m["smtpd_tls_security_level"] = "may"
		m["smtpd_tls_chain_files"] = p.Cert.ChainFile
		m["smtpd_tls_loglevel"] = "1"
		m["smtpd_tls_received_header"] = "yes"
	}
	if opts.MessageRateLimit > 0 {
		m["smtpd_client_message_rate_limit"] = strconv.Itoa(opts.MessageRateLimit)
	}
	if opts.RateTimeUnit > 0 {
		m["anvil_rate_time_unit"] = fmt.Sprintf("%ds", max(1, int(opts.RateTimeUnit/time.Second)))
	}
	for k, v := range opts.MainCF {
		m[k] = v
	}
	return m
}

// queueAndTransportCF makes the queue fast and the next hop plain.
var queueAndTransportCF = map[string]string{
	// Fast queue: retry deferred mail every second or two, never
	// expire it during a test, send DSNs at once.
	"queue_run_delay":        "1s",
	"minimal_backoff_time":   "1s",
	"maximal_backoff_time":   "2s",
	"maximal_queue_lifetime": "1d",
	"bounce_queue_lifetime":  "1d",
	"delay_warning_time":     "0h",
	"smtp_connect_timeout":   "5s",
	"smtp_helo_timeout":      "10s",
	// The next hop is a loopback address in brackets: plain SMTP,
	// no DNS.
	"smtp_tls_security_level": "none",
	"smtp_dns_support_level":  "disabled",
	"lmtp_dns_support_level":  "disabled",
	// No notices to the postmaster: the maildirs hold only what
	// the test sent and the DSNs to its senders.
	"notify_classes":                      "",
	"smtputf8_enable":                     "yes",
	"smtpd_client_event_limit_exceptions": "",
	"anvil_rate_time_unit":                "60s",
	"smtpd_client_message_rate_limit":     "0",
}

// masterCF has one listener, smtpd on 127.0.0.1:PORT, and the internal
// services it and delivery need; no pickup (nothing reads a maildrop), no
// chroot.
const masterCF = `# service type  private unpriv  chroot  wakeup  maxproc command
%s      inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
maildir   unix  -       n       n       -       -       pipe
  flags=DORhu user=%s argv=/bin/sh %s ${user}
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

// Postfix's virtual(8) refuses both $1 substitution in regexp tables and
// tcp: tables for virtual_mailbox_maps, so it cannot map any address to a
// maildir of its own. Local domains are delivered by pipe(8) instead, one
// recipient at a time, as nobody, to a small maildir writer; the map below
// only tells smtpd which recipients exist.

// mailboxesMap accepts local@domain and local+ext@domain where local is
// made of letters, digits, dot, underscore and hyphen and does not start
// with a dot; other recipients at local domains get 550 5.1.1 at RCPT.
const mailboxesMap = `/^[a-z0-9_-][a-z0-9._-]*(\+[^@]*)?@[^@]+$/	OK
`

// deliverScript writes standard input into <base>/<mailbox>/new the maildir
// way (tmp, then rename). Exit 67 (EX_NOUSER) bounces, others defer.
const deliverScript = `# written by internal/mtatest: deliver to a maildir under %s
set -e
case "$1" in ""|.*|*/*|*..*) echo "bad mailbox name: $1"; exit 67;; esac
dir='%[1]s'/"$1"
umask 077
mkdir -p "$dir/tmp" "$dir/new" "$dir/cur"
name="$(date +%%s.%%N).P$$.mtatest"
cat > "$dir/tmp/$name"
mv "$dir/tmp/$name" "$dir/new/$name"
`

func (p *Postfix) writeConfig(opts PostfixOptions) error {
	var main strings.Builder
	main.WriteString("# written by internal/mtatest\n")
	m := p.mainCF(opts)
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(&main, "%s = %s\n", k, m[k])
	}
	files := map[string]string{
		"main.cf":     main.String(),
		"master.cf":   fmt.Sprintf(masterCF, p.addr, p.mailUser, filepath.Join(p.ConfigDir, "deliver")),
		"mailboxes":   mailboxesMap,
		"deliver":     fmt.Sprintf(deliverScript, p.MaildirBase),
		"all_domains": "/./\tOK\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(p.ConfigDir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
