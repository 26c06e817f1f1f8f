// Package subscribers validates and normalises subscriber addresses and
// names, reads and writes the subscribers CSV format, and signs the tokens in
// the links a subscriber follows (unsubscribe, preferences, confirm).
package subscribers
