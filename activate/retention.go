package activate

import (
	"context"
	"time"
)

// purgeChunk is how many messages one purge transaction deletes, so a
// large purge does not hold the store's write lock for long.
const purgeChunk = 5000

// purgeLoop deletes finished messages older than the retention every
// PurgeEvery until ctx ends.
func (s *Service) purgeLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.PurgeEvery)
	defer t.Stop()
	for {
		if n, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
			s.opts.Log.Error("purging delivered messages failed; will retry", "err", err)
		} else if n > 0 {
			s.opts.Log.Info("purged delivered messages", "messages", n, "retention", s.opts.Retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Purge deletes every destination's delivered and consent-blocked
// messages finished more than the retention ago; it returns how many.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	ds, err := s.st.Destinations(ctx)
	if err != nil {
		return 0, err
	}
	before := s.opts.Now().Add(-s.opts.Retention)
	var total int64
	for _, d := range ds {
		for {
			n, err := s.st.PurgeDeliveries(ctx, d.ID, before, purgeChunk)
			total += n
			if err != nil {
				return total, err
			}
			if n < purgeChunk {
				break
			}
		}
	}
	return total, nil
}
