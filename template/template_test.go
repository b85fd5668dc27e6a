package template

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ text, msg string }{
		{`{"text": "{{secrt "a" "b"}}"}`, `template: line 1, col 13: function "secrt" not defined`},
		{"a\n{{ $x }}", `template: line 2, col 4: undefined variable "$x"`},
		{"{{.data.stage}}{{end}}", `template: line 1: unexpected {{end}}`},
		{"{{.data.stage}", `template: line 1: bad character U+007D '}'`},
		{"x\n{{if .data}}", `template: line 2: unexpected EOF`},
		{`{{range 1000000000}}{{end}}`, `template: line 1, col 9: range over 1000000000 is too long; at most 10000 iterations`},
		{`{{range $i, $v := 20000}}{{end}}`, `template: line 1, col 19: range over 20000 is too long; at most 10000 iterations`},
		{`{{define "a"}}{{template "b"}}{{end}}{{define "b"}}{{template "a"}}{{end}}{{template "a"}}`,
			`template: line 1, col 63: template "a" is called recursively; recursive templates are not allowed`},
		{`{{define "a"}}{{template "a"}}{{end}}`, `template: line 1, col 26: template "a" is called recursively; recursive templates are not allowed`},
		{`{{template "zz"}}`, `template: line 1, col 12: template "zz" is not defined`},
		{strings.Repeat("x", MaxTemplateBytes+1), `template: must be at most 16384 bytes (is 16385)`},
		{"\xff", `template: must be UTF-8`},
	}
	for _, tt := range tests {
		_, err := Compile(tt.text, Options{})
		wantInvalid(t, err, tt.msg)
	}
}

func TestCompileAccepts(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		"", "plain text", `{{range 10000}}.{{end}}`, `{{block "x" .}}{{.type}}{{end}}`,
		`{{define "a"}}{{template "b" .}}{{template "b" .}}{{end}}{{define "b"}}b{{end}}{{template "a" .}}`,
		`{{with get .data "x"}}{{.}}{{else with get .data "y"}}{{.}}{{end}}`,
		`{{range .data.items}}{{if .}}{{break}}{{end}}{{continue}}{{end}}`,
	} {
		if _, err := Compile(text, Options{}); err != nil {
			t.Errorf("Compile(%q): %v", text, err)
		}
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	ev := newEvent("deploy.succeeded", `{"stage":"dev","n":12345678901234567890,"f":1.50,"ok":true,"nil":null,
		"msg":"  a <b> & \"c\"  ","tags":["x","y",3],"items":[{"name":"first"}],"at":"2024-01-02T03:04:05+02:00","unix":1700000000,
		"a.b":"dotted","long":"héllo wörld"}`)
	tests := []struct{ text, want string }{
		{`{{.type}} {{.id}} {{.data.stage}}`, "deploy.succeeded evt_1 dev"},
		{`{{.data.n}} {{.data.f}} {{.data.ok}}`, "12345678901234567890 1.50 true"},
		{`{{.timestamp.Unix}} {{formatTime "RFC3339" .timestamp}}`, "1714979289 2024-05-06T07:08:09Z"},
		{`{{json .data.items}} {{json .data.n}} {{json .data.msg}} {{json .data.nil}}`, `[{"name":"first"}] 12345678901234567890 "  a <b> & \"c\"  " null`},
		{`{{json .event}}`, `{"data":` + `{"a.b":"dotted","at":"2024-01-02T03:04:05+02:00","f":1.50,"items":[{"name":"first"}],"long":"héllo wörld","msg":"  a <b> & \"c\"  ","n":12345678901234567890,"nil":null,"ok":true,"stage":"dev","tags":["x","y",3],"unix":1700000000},"id":"evt_1","timestamp":"2024-05-06T07:08:09Z","type":"deploy.succeeded"}`},
		{`{{quote .data.msg}} {{quote .data.n}} {{quote (get .data "none")}} {{quote "a\nb"}}`, `"  a <b> & \"c\"  " "12345678901234567890" "" "a\nb"`},
		{`{{get .data "stage"}} {{get .data "items.0.name"}} {{get .data "none.x"}} {{get .data "items.9"}} {{get .data "tags.-1"}} {{get .data "stage.x"}}`, "dev first <no value> <no value> <no value> <no value>"},
		{`{{get .data "stage" | default "none"}} {{get .data "missing" | default "none"}} {{default "x" .data.nil}} {{default "x" ""}} {{default "x" .data.ok}} {{default 0 .data.f}}`, "dev none x x true 1.50"},
		{`{{index .data "a.b"}} {{index .data "nope"}}`, "dotted <no value>"},
		{`{{upper .data.stage}} {{lower "ÀB"}} {{title "hello wor-ld ünd"}} [{{trim .data.msg}}] {{upper .data.n}}`, `DEV àb Hello Wor-Ld Ünd [a <b> & "c"] 12345678901234567890`},
		{`{{join ", " .data.tags}} {{.data.tags | join "+"}} [{{join "," .data.nil}}]`, "x, y, 3 x+y+3 []"},
		{`{{truncate 3 .data.long}} {{truncate 0 "abc"}} {{truncate 99 .data.long}} {{truncate 2 .data.n}}`, "hél  héllo wörld 12"},
		{`{{formatTime "2006-01-02 15:04" .data.at}} {{formatTime "DateOnly" .data.unix}} {{formatTime "Unix" .timestamp}} {{formatTime "Kitchen" .data.at}}`, "2024-01-02 01:04 2023-11-14 1714979289 1:04AM"},
		{`{{printf "%s-%v" .data.stage .data.n}} {{print "a" 1}} {{html "<a>"}} {{js "'"}} {{urlquery "a b&c"}}`, `dev-12345678901234567890 a1 &lt;a&gt; \' a+b%26c`},
		{`{{range $i, $t := .data.tags}}{{$i}}={{$t}};{{end}}{{range 3}}{{.}}{{end}}`, "0=x;1=y;2=3;012"},
		{`{{if eq .data.stage "dev" "staging"}}yes{{end}} {{len .data.tags}} {{_tick}}`, "yes 3 "},
		{`{{define "row"}}[{{.name}}]{{end}}{{range .data.items}}{{template "row" .}}{{end}}`, "[first]"},
	}
	for _, tt := range tests {
		out, err := mustCompile(t, tt.text).Render(context.Background(), ev, nil)
		if err != nil {
			t.Errorf("Render(%s): %v", tt.text, err)
			continue
		}
		if string(out.Body) != tt.want {
			t.Errorf("Render(%s)\n got: %s\nwant: %s", tt.text, out.Body, tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	ev := newEvent("x", `{"stage":"dev","evaluation":{"result":"pass"},"tags":"notalist","at":"yesterday","n":1e300}`)
	tests := []struct{ text, msg string }{
		{"line one\n  {{.data.stgae}}", `template: line 2, col 10: map has no entry for key "stgae" (use get .data "stgae" for optional fields)`},
		{`{{.data.evaluation.score}}`, `template: line 1, col 8: map has no entry for key "score" (use get .data.evaluation "score" for optional fields)`},
		{`{{.nope}}`, `template: line 1, col 3: map has no entry for key "nope" (use get . "nope" for optional fields)`},
		{`{{index .data.evaluation 5}}`, `template: line 1, col 3: index: value has type int; should be string`},
		{`{{join "," .data.tags}}`, `template: line 1, col 3: join: expected a list, got a string`},
		{`{{formatTime "RFC3339" .data.at}}`, `template: line 1, col 3: formatTime: "yesterday" is not an RFC 3339 time`},
		{`{{formatTime "RFC3339" .data.n}}`, `template: line 1, col 3: formatTime: 1e300 is not a Unix time`},
		{`{{formatTime "RFC3339" .data.evaluation}}`, `template: line 1, col 3: formatTime: expected a time, got an object`},
		{`{{truncate -1 "x"}}`, `template: line 1, col 3: truncate: length must not be negative`},
		{`{{secret "slack-secret" "webhook-identifier"}}`, `template: line 1, col 3: secret "slack-secret" key "webhook-identifier": no secrets are available here`},
		{`{{printf "%0999999d" 1}}`, `template: line 1, col 3: printf: result is over the 65536-byte limit`},
	}
	for _, tt := range tests {
		_, err := mustCompile(t, tt.text).Render(context.Background(), ev, nil)
		wantInvalid(t, err, tt.msg)
	}
}

func TestRenderBadData(t *testing.T) {
	t.Parallel()
	_, err := mustCompile(t, "{{.type}}").Render(context.Background(), newEvent("x", `{"a":`), nil)
	wantInvalid(t, err, "template: the event's data is not valid JSON")
	out, err := mustCompile(t, "{{.type}}{{.data}}").Render(context.Background(), &hookd.Event{Type: "x"}, nil)
	if err != nil || string(out.Body) != "x<no value>" {
		t.Errorf("empty data: %q, %v", out.Body, err)
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := secretMap{"slack-secret/webhook-identifier": "XXXXXXXXXXXX", "a/short": "abc"}
	tm := mustCompile(t, `{{secret "slack-secret" "webhook-identifier"}}/{{secret "slack-secret" "webhook-identifier"}}/{{secret "a" "short"}}`)
	out, err := tm.Render(ctx, newEvent("x", "{}"), s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Body) != "XXXXXXXXXXXX/XXXXXXXXXXXX/abc" || len(out.Secrets) != 2 {
		t.Errorf("got %q, secrets %q", out.Body, out.Secrets)
	}

	t.Run("Missing", func(t *testing.T) {
		_, err := mustCompile(t, `{{secret "slack-secret" "nope"}}`).Render(ctx, newEvent("x", "{}"), s)
		wantInvalid(t, err, `template: line 1, col 3: secret "slack-secret" key "nope": not found`)
	})
	t.Run("StoreFails", func(t *testing.T) {
		boom := errors.New("disk on fire")
		fail := secretsFunc(func(context.Context, string, string) (string, error) { return "", boom })
		_, err := mustCompile(t, `{{secret "a" "b"}}`).Render(ctx, newEvent("x", "{}"), fail)
		if hookd.ErrorCode(err) != hookd.EINTERNAL || !errors.Is(err, boom) ||
			hookd.ErrorMessage(err) != `template: line 1, col 3: secret "a" key "b": cannot be read` {
			t.Errorf("got %v (code %s)", err, hookd.ErrorCode(err))
		}
	})
	t.Run("ValueNeverInError", func(t *testing.T) {
		tm := mustCompile(t, `{{$s := secret "slack-secret" "webhook-identifier"}}{{formatTime "RFC3339" $s}}`)
		_, err := tm.Render(ctx, newEvent("x", "{}"), s)
		wantInvalid(t, err, `template: line 1, col 55: formatTime: "***" is not an RFC 3339 time`)
	})
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text    string
		secrets []string
		want    string
	}{
		{"https://hooks.slack.com/services/T0/B0/XXXXSECRET", []string{"XXXXSECRET"}, "https://hooks.slack.com/services/T0/B0/***"},
		{"a abc b", []string{"abc"}, "a abc b"}, // too short to redact
		{"key=a+b%26c&x", []string{"a b&c"}, "key=***&x"},
		{`{"k":"q\"uo<te"}`, []string{`q"uo<te`}, `{"k":"***"}`},
		{"abcdef abcd", []string{"abcd", "abcdef"}, "*** ***"},
		{"nothing here", []string{"secret"}, "nothing here"},
		{"no secrets", nil, "no secrets"},
	}
	for _, tt := range tests {
		if got := Redact(tt.text, tt.secrets); got != tt.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tt.text, tt.secrets, got, tt.want)
		}
	}
}

func TestRenderString(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := secretMap{"slack-secret/webhook-identifier": "XXXXXXXX"}
	got, used, err := RenderString(ctx, `https://hooks.slack.com/services/T0/B0/{{secret "slack-secret" "webhook-identifier"}}`, newEvent("x", "{}"), s)
	if err != nil || got != "https://hooks.slack.com/services/T0/B0/XXXXXXXX" || len(used) != 1 {
		t.Errorf("got %q %q %v", got, used, err)
	}
	if got, _, err := RenderString(ctx, "https://example.com/{x}", nil, nil); err != nil || got != "https://example.com/{x}" {
		t.Errorf("plain: %q %v", got, err)
	}
	_, _, err = RenderString(ctx, "{{nope}}", nil, nil)
	wantInvalid(t, err, `template: line 1, col 3: function "nope" not defined`)
}

func TestOutputLimit(t *testing.T) {
	t.Parallel()
	tm, err := Compile(`{{range 100}}0123456789{{end}}`, Options{MaxBytes: 999})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Render(context.Background(), newEvent("x", "{}"), nil)
	wantInvalid(t, err, "template: output is over the 999-byte limit")
	tm, _ = Compile(`{{range 100}}0123456789{{end}}`, Options{MaxBytes: 1000})
	if out, err := tm.Render(context.Background(), newEvent("x", "{}"), nil); err != nil || len(out.Body) != 1000 {
		t.Errorf("at the limit: %d bytes, %v", len(out.Body), err)
	}
	// Doubling a value is stopped by the function limit, before memory grows.
	tm = mustCompile(t, `{{$x := "0123456789"}}{{range 100}}{{$x = printf "%s%s" $x $x}}{{end}}`)
	_, err = tm.Render(context.Background(), newEvent("x", "{}"), nil)
	wantInvalid(t, err, "template: line 1, col 43: printf: result is over the 65536-byte limit")
}

// slowTemplates loop without output; each would run for minutes unguarded.
var slowTemplates = []string{
	`{{range 10000}}{{range 10000}}{{range 10000}}{{end}}{{end}}{{end}}`,
	`{{range $a := .data.list}}{{range $.data.list}}{{range $.data.list}}{{range $.data.list}}{{end}}{{end}}{{end}}{{end}}`,
	`{{define "a"}}{{template "b"}}{{template "b"}}{{end}}{{define "b"}}{{template "c"}}{{template "c"}}{{end}}` +
		`{{define "c"}}{{range 10000}}{{range 10000}}{{end}}{{end}}{{end}}{{template "a"}}`,
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	ev := newEvent("x", `{"list":[`+strings.Repeat("1,", 999)+`1]}`)
	for _, text := range slowTemplates {
		tm, err := Compile(text, Options{Timeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = tm.Render(context.Background(), ev, nil)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: took %s", text, took)
		}
		if code := hookd.ErrorCode(err); code != hookd.EINVALID || !strings.Contains(err.Error(), ": rendering took longer than 50ms") ||
			!strings.HasPrefix(err.Error(), "template: line 1, col ") {
			t.Errorf("%s: %v", text, err)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustCompile(t, `{{range 10}}x{{end}}`).Render(ctx, newEvent("x", "{}"), nil)
	if !errors.Is(err, context.Canceled) || hookd.ErrorCode(err) != hookd.EUNAVAILABLE ||
		err.Error() != "template: line 1, col 1: rendering stopped: context canceled" {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestSecretTimeout(t *testing.T) {
	t.Parallel()
	slow := secretsFunc(func(ctx context.Context, _, _ string) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	tm, _ := Compile(`{{secret "a" "b"}}`, Options{Timeout: 10 * time.Millisecond})
	_, err := tm.Render(context.Background(), newEvent("x", "{}"), slow)
	if hookd.ErrorCode(err) != hookd.EUNAVAILABLE || hookd.ErrorMessage(err) != `template: line 1, col 3: secret "a" key "b": not read within the render time limit` {
		t.Errorf("got %v (%s)", err, hookd.ErrorCode(err))
	}
}

func TestConcurrentRender(t *testing.T) {
	t.Parallel()
	tm := mustCompile(t, `{{range .data.items}}{{.}}{{end}} {{secret "s" "k"}}`)
	d := NewDoc(newEvent("x", `{"items":[1,2,3]}`))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s := secretMap{"s/k": strings.Repeat(string(rune('a'+i)), 5)}
			for range 50 {
				out, err := tm.RenderDoc(context.Background(), d, s)
				if want := "123 " + s["s/k"]; err != nil || string(out.Body) != want {
					t.Errorf("got %q, %v; want %q", out.Body, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
