package web

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

// Sparkline window: 24 hourly buckets, read from at most sparkMaxPages
// pages of the webhook's delivery log (newest first).
const (
	sparkHours    = 24
	sparkMaxPages = 5
)

// sparkBar is one hour of a sparkline, in SVG units (viewBox 0 0 72 20).
type sparkBar struct {
	X, Y, H int
	Class   string // "ok", "bad" or "empty"
	Title   string
}

// sparkline is a webhook's success rate over the last 24 hours.
type sparkline struct {
	Bars    []sparkBar
	Summary string // the text alternative
}

// sparklineOf reads the deliveries of webhook created in the last 24 hours
// and counts the finished ones (succeeded or failed) per hour.
func (d *Dashboard) sparklineOf(ctx context.Context, project, webhook string) (*sparkline, error) {
	now := d.now()
	since := now.Add(-sparkHours * time.Hour)
	var ok, total [sparkHours]int
	cursor, capped := "", false
pages:
	for page := 0; ; page++ {
		if page == sparkMaxPages {
			capped = true
			break
		}
		list, next, err := d.store.DeliveryList(ctx, hookd.DeliveryFilter{ProjectID: project, WebhookID: webhook,
			Page: hookd.Page{Limit: 100, Cursor: cursor}})
		if err != nil {
			return nil, err
		}
		for _, dl := range list {
			if dl.CreatedAt.Before(since) {
				break pages
			}
			if dl.State != hookd.StateSucceeded && dl.State != hookd.StateFailed {
				continue
			}
			i := min(int(dl.CreatedAt.Sub(since)/time.Hour), sparkHours-1)
			total[i]++
			if dl.State == hookd.StateSucceeded {
				ok[i]++
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return buildSparkline(ok, total, capped), nil
}

func buildSparkline(ok, total [sparkHours]int, capped bool) *sparkline {
	s := &sparkline{Bars: make([]sparkBar, sparkHours)}
	var sumOK, sum int
	for i := range sparkHours {
		b := sparkBar{X: i * 3, Class: "empty", H: 1, Y: 19}
		ago := sparkHours - i
		if total[i] > 0 {
			rate := ok[i] * 100 / total[i]
			b.H = max(2, rate*20/100)
			b.Y = 20 - b.H
			b.Class = "ok"
			if rate < 90 {
				b.Class = "bad"
			}
			b.Title = fmt.Sprintf("%d%% of %d, %d–%d h ago", rate, total[i], ago, ago-1)
		} else {
			b.Title = fmt.Sprintf("no finished deliveries %d–%d h ago", ago, ago-1)
		}
		s.Bars[i] = b
		sumOK += ok[i]
		sum += total[i]
	}
	more := ""
	if capped {
		more = " (latest)"
	}
	switch {
	case sum == 0:
		s.Summary = "No finished deliveries in 24 h"
	case sum == 1:
		s.Summary = fmt.Sprintf("%d%% of 1%s delivery in 24 h", sumOK*100, more)
	default:
		s.Summary = fmt.Sprintf("%d%% of %d%s deliveries in 24 h", sumOK*100/sum, sum, more)
	}
	return s
}
