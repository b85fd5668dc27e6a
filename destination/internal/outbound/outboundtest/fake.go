package outboundtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/hookd/hookd"
)

// Webhook returns a webhook of project prj_1 with id, kind, a 2 s timeout
// and cfg as its config.
func Webhook(id, kind string, cfg map[string]string) *hookd.Webhook {
	b, _ := json.Marshal(cfg)
	return &hookd.Webhook{ID: id, ProjectID: "prj_1", Kind: kind, TimeoutMS: 2000, Config: b}
}

// DecodeJSON decodes the JSON body of r into v, failing the test unless it
// is application/json without unknown fields.
func DecodeJSON(t *testing.T, r *http.Request, v any) {
	t.Helper()
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("body: %v", err)
	}
}

// Comment is a comment or note as GitHub and GitLab show them.
type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
}

// Comments is a fake list of comments (GitHub) or notes (GitLab), served
// 100 a page with Link rel="next". Lock Mu to read List while a server
// runs.
type Comments struct {
	T      *testing.T
	Mu     sync.Mutex
	List   []Comment
	NextID int64 // the id of the next comment created
}

// Serve answers GET: the page of ?page= (default 1), 100 a page.
func (c *Comments) Serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("per_page") != "100" {
		c.T.Errorf("per_page %q", r.URL.Query().Get("per_page"))
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	c.Mu.Lock()
	defer c.Mu.Unlock()
	lo, hi := min((page-1)*100, len(c.List)), min(page*100, len(c.List))
	if hi < len(c.List) {
		origin := "http://" + r.Host
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=100&page=%d>; rel="next", <%s/x>; rel="last"`, origin, r.URL.Path, page+1, origin))
	}
	_ = json.NewEncoder(w).Encode(c.List[lo:hi])
}

// Create answers POST: a new comment with the body's "body", 201.
func (c *Comments) Create(w http.ResponseWriter, r *http.Request) {
	var b map[string]string
	DecodeJSON(c.T, r, &b)
	c.Mu.Lock()
	cm := Comment{ID: c.NextID, Body: b["body"]}
	c.NextID++
	c.List = append(c.List, cm)
	c.Mu.Unlock()
	w.WriteHeader(201)
	_ = json.NewEncoder(w).Encode(cm)
}

// Update returns a handler of PATCH or PUT that sets the body of the
// comment whose id is the path value idName; notFound is the 404 body.
func (c *Comments) Update(idName, notFound string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b map[string]string
		DecodeJSON(c.T, r, &b)
		id, _ := strconv.ParseInt(r.PathValue(idName), 10, 64)
		c.Mu.Lock()
		defer c.Mu.Unlock()
		for i := range c.List {
			if c.List[i].ID == id {
				c.List[i].Body = b["body"]
				_ = json.NewEncoder(w).Encode(c.List[i])
				return
			}
		}
		http.Error(w, notFound, 404)
	}
}
