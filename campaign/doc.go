// Package campaign owns the sending of campaigns: the one place that decides
// what a digest, a single-article send or a scheduled digest contains, who
// receives it, and how a run goes.
//
// A Service creates a campaign (digests, single articles and scheduled
// digests share one creation path), resumes a list's unfinished campaign
// first, holds the sender lease while it sends, composes each reader's
// message (the reader's articles by newsletter.MatchArticles, rendered by
// templates, links signed by subscribers, built by mailer) and runs the
// mailer.Sender against the delivery log in sqlite. It returns a Result; it
// prints nothing and chooses no exit code: the CLI does that. Progress is
// reported through the Progress interface.
//
// The path of `newsletter digest`:
//
//	cmd/newsletter runDigest → Service.Digest
//	  → Service.withLease (sqlite.AcquireLease, renewed while it runs)
//	  → Service.resume (sqlite.UnfinishedCampaign, PrepareResume) → Service.send
//	  → Service.create (sqlite.DigestCandidates, templates.Content for the
//	    subject, sqlite.CreateCampaign: one INSERT … SELECT of recipients)
//	  → Service.send → mailer.Sender.Run, which calls Service.compose for each
//	    reader and writes results through newsletter.DeliveryLog
//	  → sqlite.FinishCampaign, sqlite.Campaign → Result
package campaign
