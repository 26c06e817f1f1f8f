// Package newsletter holds the domain of the newsletter tool: articles and
// their categories, subscribers and lists, campaigns and the delivery log.
//
// The types here are plain values and the errors carry a code and a message
// meant for a person. Adapters live in sub-packages: articles parses sources,
// sqlite stores everything, templates renders mail, mailer builds and sends it,
// and cmd/newsletter wires them into the command-line tool. This package
// imports none of their libraries.
package newsletter
