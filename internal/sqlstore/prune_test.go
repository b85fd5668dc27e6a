package sqlstore_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/sqlstore"
	"github.com/hookd/hookd/storetest"
)

// TestPruneCutUsesIndex: the query that bounds each prune finds its event
// through the events_created index. The retention loop runs it every
// minute inside the writer; a plan that walks the events table (as
// SELECT max(seq) … WHERE created_at < ? did) held every publish for the
// length of that walk, 0.9 s at 100,000 events.
func TestPruneCutUsesIndex(t *testing.T) {
	db, _ := openWithProject(t)
	conn, err := sql.Open("sqlite", "file:"+db.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query("EXPLAIN QUERY PLAN "+sqlstore.PruneCut, storetest.T0.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "INDEX events_created") || strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("plan of the prune cut: %q, want a search of the events_created index", got)
	}
}
