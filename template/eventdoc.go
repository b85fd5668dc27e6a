package template

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

	"github.com/hookd/hookd"
)

// Doc is an event prepared for filters and templates: its data is decoded
// (with json.Number, so big integers stay exact) the first time a filter
// or template needs it, once, however many use it. A Doc is safe for
// concurrent use and must not outlive changes to its event (events are
// immutable).
type Doc struct {
	ev      *hookd.Event
	typ, id any // ev.Type and ev.ID, boxed once
	once    sync.Once
	data    any  // decoded ev.Data
	ok      bool // whether ev.Data decoded
	tmpl    map[string]any
}

// NewDoc returns a Doc for ev; nil ev is an event with no type, id or data.
// It does no work until a filter or template asks for the data.
func NewDoc(ev *hookd.Event) *Doc {
	if ev == nil {
		ev = &hookd.Event{}
	}
	return &Doc{ev: ev, typ: ev.Type, id: ev.ID}
}

// decode decodes the event's data once. Empty data is JSON null.
func (d *Doc) decode() {
	d.once.Do(func() {
		d.ok = true
		if len(bytes.TrimSpace(d.ev.Data)) > 0 {
			d.data, d.ok = decodeJSON(d.ev.Data)
		}
		if !d.ok {
			return
		}
		ev := map[string]any{"id": d.ev.ID, "type": d.ev.Type, "timestamp": d.ev.Timestamp, "data": d.data}
		d.tmpl = map[string]any{"id": d.ev.ID, "type": d.ev.Type, "timestamp": d.ev.Timestamp, "data": d.data, "event": ev}
	})
}

// decodeJSON decodes one JSON value with json.Number for numbers.
func decodeJSON(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// templateData returns the data templates run over, or an EINVALID error
// when the event's data is not JSON.
func (d *Doc) templateData() (map[string]any, error) {
	d.decode()
	if !d.ok {
		return nil, hookd.Errorf(hookd.EINVALID, "template: the event's data is not valid JSON")
	}
	return d.tmpl, nil
}

// lookup returns the value at a parsed field path and whether it exists.
// Data that does not decode has no fields.
func (d *Doc) lookup(p []pathSeg) (any, bool) {
	switch p[0].key {
	case "type":
		return d.typ, true
	case "id":
		return d.id, true
	}
	d.decode()
	if !d.ok {
		return nil, false
	}
	v := d.data
	for _, s := range p[1:] {
		switch c := v.(type) {
		case map[string]any:
			x, ok := c[s.key]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			if s.index < 0 || s.index >= len(c) {
				return nil, false
			}
			v = c[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}
