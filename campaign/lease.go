package campaign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
)

// ErrLeaseLost is the cause of a run's cancellation when another process
// took the sender lease (this one was paused past its expiry).
var ErrLeaseLost = errors.New("another process took over the sender lease")

// withLease runs fn holding the sender lease, renewed while fn runs. If the
// lease is lost, fn's context is cancelled: the send stops after the
// messages in flight (and the claims in the log keep the two processes from
// sending anything twice meanwhile), and the result carries ErrLeaseLost.
func (s *Service) withLease(ctx context.Context, fn func(ctx context.Context) error) error {
	host, _ := os.Hostname()
	b := make([]byte, 8)
	rand.Read(b)
	l := sqlite.Lease{Holder: hex.EncodeToString(b), PID: os.Getpid(), Host: host}
	ttl := s.LeaseTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	isDead := func(cur sqlite.Lease) bool {
		return cur.Host == host && syscall.Kill(cur.PID, 0) == syscall.ESRCH
	}
	if err := s.DB.AcquireLease(ctx, l, ttl, isDead); err != nil {
		return err
	}
	defer s.DB.ReleaseLease(context.WithoutCancel(ctx), l.Holder)
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renewLease(ctx, l.Holder, ttl, stop, cancel)
	}()
	err := fn(runCtx)
	close(stop)
	<-renewed
	if errors.Is(context.Cause(runCtx), ErrLeaseLost) {
		return fmt.Errorf("%w; this run stopped after the messages in flight (they are logged)", ErrLeaseLost)
	}
	return err
}

// renewLease renews the lease every third of its life until stop closes,
// and cancels the run with ErrLeaseLost when another holder has it.
func (s *Service) renewLease(ctx context.Context, holder string, ttl time.Duration, stop <-chan struct{}, cancel context.CancelCauseFunc) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			err := s.DB.RenewLease(context.WithoutCancel(ctx), holder, ttl)
			if newsletter.ErrorCode(err) == newsletter.ECONFLICT {
				s.logger().Error("the sender lease was taken over; stopping after the messages in flight")
				cancel(ErrLeaseLost)
				return
			} else if err != nil {
				s.logger().Error("renewing the sender lease", "err", err)
			}
		}
	}
}
