// Package outboundtest has helpers for the integration kinds' tests.
package outboundtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// Secrets is a fake destination.Secrets: project → "name/key" → value.
type Secrets map[string]map[string]string

// Secret returns the value, or an ENOTFOUND error.
func (s Secrets) Secret(_ context.Context, project, name, key string) (string, error) {
	if v, ok := s[project][name+"/"+key]; ok {
		return v, nil
	}
	return "", hookd.Errorf(hookd.ENOTFOUND, "secret %q has no key %q", name, key)
}

// Event returns an event of type typ with data.
func Event(typ, data string) *hookd.Event {
	return &hookd.Event{ID: "evt_01jtest", ProjectID: "prj_1", Type: typ, Data: json.RawMessage(data),
		Timestamp: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

// Request returns a send request for w and ev.
func Request(w *hookd.Webhook, ev *hookd.Event) *hookd.SendRequest {
	return &hookd.SendRequest{Webhook: w, Event: ev, Delivery: &hookd.Delivery{ID: "dlv_1"}, Number: 1, Trigger: hookd.TriggerAuto}
}

// NoSecrets fails the test when the attempt's JSON contains any of values.
func NoSecrets(t *testing.T, res *hookd.SendResult, values ...string) {
	t.Helper()
	b, err := json.Marshal(res.Attempt)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if strings.Contains(string(b), v) {
			t.Errorf("attempt contains secret %q: %s", v, b)
		}
	}
	if !strings.Contains(string(b), "***") {
		t.Errorf("attempt shows no *** redaction: %s", b)
	}
}

// Fields returns the field names of an EINVALID error.
func Fields(err error) []string {
	var out []string
	if e, ok := err.(*hookd.Error); ok {
		for _, f := range e.Fields {
			out = append(out, f.Field)
		}
	}
	return out
}

// HasField fails the test unless err names field.
func HasField(t *testing.T, err error, field string) {
	t.Helper()
	for _, f := range Fields(err) {
		if f == field {
			return
		}
	}
	t.Errorf("error %v does not name field %q (fields %v)", err, field, Fields(err))
}
