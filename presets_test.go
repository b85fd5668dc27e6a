package hookd_test

import (
	"encoding/json"
	"github.com/hookd/hookd"
	"testing"
)

func TestPresetsValid(t *testing.T) {
	for name, ts := range hookd.EventTypePresets {
		for _, et := range ts {
			et.ProjectID = "p"
			if err := et.Validate(); err != nil {
				t.Error(name, et.Name, err)
			}
			if !json.Valid(et.Example) {
				t.Error(name, et.Name, "example")
			}
		}
	}
}
