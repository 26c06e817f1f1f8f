package mailer

import (
	"context"
	"fmt"
	"time"

	"github.com/example/newsletter"
)

// logItem is one write to the log; a mark carries done to be told when it
// is committed, and whether it claimed its delivery.
type logItem struct {
	u    newsletter.DeliveryUpdate
	done chan claimResult
}

type claimResult struct {
	claimed bool
	err     error
}

// write queues an update; with wait it returns once the update is
// committed, and whether a mark claimed its delivery.
func (r *run) write(u newsletter.DeliveryUpdate, wait bool) (bool, error) {
	it := logItem{u: u}
	if wait {
		it.done = make(chan claimResult, 1)
	}
	r.items <- it
	if wait {
		res := <-it.done
		return res.claimed, res.err
	}
	return true, nil
}

// writeLog is the one goroutine that writes the log. A mark (an item with
// done) is written at once together with every result queued before it;
// results alone are written at least every Flush.
func (r *run) writeLog(ctx context.Context) error {
	var batch []logItem
	var failed error
	ticker := time.NewTicker(r.s.Flush)
	defer ticker.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		err := failed
		lost := map[int64]bool{}
		if err == nil {
			ups := make([]newsletter.DeliveryUpdate, len(batch))
			for i, it := range batch {
				ups[i] = it.u
			}
			var ids []int64
			ids, err = r.s.Log.WriteDeliveries(ctx, ups)
			if err != nil {
				failed = err
				r.abort(fmt.Errorf("writing the delivery log: %w", err))
			}
			for _, id := range ids {
				lost[id] = true
			}
		}
		for _, it := range batch {
			if it.done != nil {
				it.done <- claimResult{claimed: !lost[it.u.DeliveryID], err: err}
			}
		}
		batch = batch[:0]
	}
	for {
		select {
		case it, ok := <-r.items:
			if !ok {
				flush()
				return failed
			}
			batch = append(batch, it)
			urgent := it.done != nil
			// Take whatever else is already queued into the same
			// transaction.
			for more := true; more && len(batch) < 512; {
				select {
				case it2, ok := <-r.items:
					if !ok {
						flush()
						return failed
					}
					batch = append(batch, it2)
					urgent = urgent || it2.done != nil
				default:
					more = false
				}
			}
			if urgent || len(batch) >= 512 {
				flush()
			}
		case <-ticker.C:
			flush()
		}
	}
}

// record writes a result without waiting and counts it.
func (r *run) record(up newsletter.DeliveryUpdate, counted string) {
	r.write(up, false)
	r.count(counted)
}
