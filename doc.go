// Package newsletter holds the domain of the newsletter tool: articles and
// their categories, subscribers and lists, campaigns and the delivery log,
// and the rules that decide over them — which articles a reader receives
// (MatchArticles), who may be made active again (NextStatus), when an
// address is bounced (HardFailureLimit).
//
// The types here are plain values and the errors carry a code, a message
// meant for a person and the cause they wrap. Adapters live in
// sub-packages: articles and feeds take sources in, subscribers handles
// addresses and tokens, templates renders mail, mailer builds and sends it,
// sqlite stores everything (and decides nothing), web serves the subscriber
// pages, config reads the settings. The campaign package owns sending and is
// the one service cmd/newsletter calls to send. This package imports none of
// their libraries.
package newsletter
