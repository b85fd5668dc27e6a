package template

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// secretMap is a Secrets of "name/key" → value; a missing entry is ENOTFOUND.
type secretMap map[string]string

func (m secretMap) Secret(_ context.Context, name, key string) (string, error) {
	v, ok := m[name+"/"+key]
	if !ok {
		return "", hookd.Errorf(hookd.ENOTFOUND, "secret not found")
	}
	return v, nil
}

// SecretsFunc adapts a function to Secrets.
type secretsFunc func(ctx context.Context, name, key string) (string, error)

func (f secretsFunc) Secret(ctx context.Context, name, key string) (string, error) {
	return f(ctx, name, key)
}

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// newEvent returns an event of type typ with data (a JSON object).
func newEvent(typ, data string) *hookd.Event {
	return &hookd.Event{ID: "evt_1", Type: typ, Timestamp: testTime, Data: json.RawMessage(data)}
}

// keptnEvent is the seed's evaluation.finished event.
func keptnEvent(stage string) *hookd.Event {
	return newEvent("sh.keptn.event.evaluation.finished", `{"project":"sockshop","stage":"`+stage+`","service":"carts",
		"result":"pass","evaluation":{"result":"pass","score":95.5,"sloFileContent":""},
		"labels":{"buildId":"1.2.3"},"big":12345678901234567890}`)
}

func mustCompile(t testing.TB, text string) *Template {
	t.Helper()
	tm, err := Compile(text, Options{})
	if err != nil {
		t.Fatalf("Compile(%q): %v", text, err)
	}
	return tm
}

func mustFilter(t testing.TB, raw string) *Filter {
	t.Helper()
	f, err := ParseFilter(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("ParseFilter(%s): %v", raw, err)
	}
	return f
}

// wantInvalid fails unless err is an *hookd.Error EINVALID with message msg.
func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	if code := hookd.ErrorCode(err); code != hookd.EINVALID {
		t.Fatalf("error %v: code %q, want %q", err, code, hookd.EINVALID)
	}
	if got := hookd.ErrorMessage(err); got != msg {
		t.Errorf("message\n got: %s\nwant: %s", got, msg)
	}
}
