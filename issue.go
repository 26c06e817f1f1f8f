package newsletter

import "time"

// Issue is a campaign as the web archive shows it: a message that reached
// readers, with the articles it held. It carries nothing about any reader.
type Issue struct {
	ID       int64 // the campaign's ID: /archive/ID
	Kind     string
	Subject  string
	Date     time.Time // when the campaign was made
	Articles []*Article
}
