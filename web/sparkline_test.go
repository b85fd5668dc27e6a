package web

import "testing"

func TestBuildSparkline(t *testing.T) {
	var ok, total [sparkHours]int
	if s := buildSparkline(ok, total, false); s.Summary != "No finished deliveries in 24 h" || len(s.Bars) != sparkHours ||
		s.Bars[0].Class != "empty" {
		t.Fatalf("empty: %+v", s)
	}
	total[23], ok[23] = 10, 10 // the last hour: all good
	total[0], ok[0] = 10, 5    // 24 hours ago: half failed
	s := buildSparkline(ok, total, false)
	if s.Summary != "75% of 20 deliveries in 24 h" {
		t.Fatalf("summary %q", s.Summary)
	}
	if b := s.Bars[23]; b.Class != "ok" || b.H != 20 || b.Y != 0 || b.Title != "100% of 10, 1–0 h ago" {
		t.Fatalf("last hour bar %+v", b)
	}
	if b := s.Bars[0]; b.Class != "bad" || b.H != 10 || b.Title != "50% of 10, 24–23 h ago" {
		t.Fatalf("first hour bar %+v", b)
	}
	if b := s.Bars[12]; b.Class != "empty" || b.H != 1 {
		t.Fatalf("empty hour bar %+v", b)
	}
	total, ok = [sparkHours]int{}, [sparkHours]int{}
	total[5] = 1
	if s := buildSparkline(ok, total, true); s.Summary != "0% of 1 (latest) delivery in 24 h" {
		t.Fatalf("single capped: %q", s.Summary)
	}
}
