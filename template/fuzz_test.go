package template

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

const fuzzSecret = "s3cr3t-value"

func FuzzCompileRender(f *testing.F) {
	data := `{"stage":"dev","n":12345678901234567890,"items":[{"name":"x"},1,null,true],"evaluation":{"result":"pass","score":95.5}}`
	for _, text := range []string{
		"", "plain", `{{.data.stage}}`, `{{get .data "items.0.name" | default "none" | upper | quote}}`,
		`{{json .event}}`, `{{range .data.items}}{{.}}{{end}}`, `{{range 10000}}{{range 10000}}{{end}}{{end}}`,
		`{{secret "s" "k"}} {{secret "s" "nope"}}`, `{{formatTime "RFC3339" (secret "s" "k")}}`,
		`{{$x := "ab"}}{{range 60}}{{$x = printf "%s%s" $x $x}}{{end}}`, `{{define "a"}}{{template "a"}}{{end}}`,
		`{{truncate 2 .data.stage}}{{join "," .data.items}}{{title .type}}{{trim .id}}`, `{{.data.nope}}`, `{{range 1000000000}}{{end}}`,
		`{{block "b" .}}{{.type}}{{end}}`, `{{break}}`, `{{template "x"}}`, `{{with $x := .data}}{{$x.stage}}{{end}}`,
	} {
		f.Add(text, []byte(data))
	}
	f.Add(`{{.data}}`, []byte(`{"a":`))
	f.Add(`{{.data}}`, []byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, text string, data []byte) {
		tm, err := Compile(text, Options{Timeout: 20 * time.Millisecond, MaxBytes: 4096})
		if err != nil {
			if hookd.ErrorCode(err) != hookd.EINVALID || !strings.HasPrefix(err.Error(), "template: ") {
				t.Fatalf("Compile: %v", err)
			}
			return
		}
		ev := &hookd.Event{ID: "evt_1", Type: "a.b", Timestamp: testTime, Data: data}
		start := time.Now()
		out, err := tm.Render(context.Background(), ev, secretMap{"s/k": fuzzSecret})
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("Render took %s", took)
		}
		if err != nil {
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("secret in error: %v", err)
			}
			var he *hookd.Error
			if !errors.As(err, &he) {
				t.Fatalf("Render: %T %v", err, err)
			}
			return
		}
		if len(out.Body) > 4096 {
			t.Fatalf("output of %d bytes", len(out.Body))
		}
	})
}

func FuzzFilter(f *testing.F) {
	for _, raw := range []string{
		`{"field":"type","equals":"a.b"}`, `{"field":"data.n","equals":1.0}`, `{"field":"data.items.1","in":[1,"x",null,true]}`,
		`{"and":[{"field":"data.stage","in":["dev","staging"]},{"not":{"field":"data.p","prefix":"tmp-"}}]}`,
		`{"or":[{"field":"data.r","equals":"fail"},{"field":"data.s","exists":true}]}`, `{"field":"data.x","equal":1}`,
		`null`, `{}`, `[]`, `{"not":{"not":{"not":{"field":"id","exists":false}}}}`, `{"field":"data.n","equals":1e99999999999999999999}`,
	} {
		f.Add([]byte(raw), []byte(`{"stage":"dev","n":1,"items":[0,1],"p":"tmp-1","r":"fail"}`))
	}
	f.Fuzz(func(t *testing.T, raw, data []byte) {
		flt, err := ParseFilter(json.RawMessage(raw))
		if err != nil {
			if hookd.ErrorCode(err) != hookd.EINVALID {
				t.Fatalf("ParseFilter: %v", err)
			}
			return
		}
		d := NewDoc(&hookd.Event{ID: "evt_1", Type: "a.b", Data: data})
		got := flt.Match(d)
		again, err := ParseFilter(json.RawMessage(flt.String()))
		if err != nil {
			t.Fatalf("canonical form %s does not parse: %v", flt, err)
		}
		if again.String() != flt.String() || again.Match(d) != got {
			t.Fatalf("round trip of %s changed the filter: %s", flt, again)
		}
	})
}
