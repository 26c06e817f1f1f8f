// Package audience administers the subscribers of the lists: adding one or
// updating it, importing a CSV file or another service's export, exporting,
// unsubscribing and removing (or forgetting) an address.
//
// A Service decides what each of these means — which lists an import joins,
// when an import that stored nothing is an error — and leaves reading and
// writing CSV to subscribers and storing to sqlite. It prints nothing: the
// CLI does that, and hears of rejected rows through a callback.
package audience
