package hookd

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
)

func TestError(t *testing.T) {
	e := Errorf(ENOTFOUND, "webhook %s not found", "wh_1")
	if e.Code != ENOTFOUND || e.Message != "webhook wh_1 not found" || e.Error() != "webhook wh_1 not found" || e.Unwrap() != nil {
		t.Errorf("Errorf = %#v (%q)", e, e.Error())
	}

	w := WrapError(EUNAVAILABLE, io.ErrUnexpectedEOF, "The store is unavailable.")
	if w.Code != EUNAVAILABLE || w.Message != "The store is unavailable." || w.Err != io.ErrUnexpectedEOF {
		t.Errorf("WrapError = %#v", w)
	}
	if got := w.Error(); got != "The store is unavailable.: unexpected EOF" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(w, io.ErrUnexpectedEOF) || w.Unwrap() != io.ErrUnexpectedEOF {
		t.Error("the cause is not unwrapped")
	}
	// Through further wrapping.
	outer := fmt.Errorf("publish: %w", w)
	var got *Error
	if !errors.As(outer, &got) || got != w {
		t.Error("errors.As does not find the *Error")
	}
	if !errors.Is(outer, io.ErrUnexpectedEOF) {
		t.Error("errors.Is does not reach the cause")
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	for _, c := range []struct {
		err       error
		code, msg string
	}{
		{nil, "", "Internal error."},
		{errors.New("disk on fire"), EINTERNAL, "Internal error."},
		{Errorf(ECONFLICT, "exists"), ECONFLICT, "exists"},
		{fmt.Errorf("ctx: %w", Errorf(ERATELIMITED, "slow down")), ERATELIMITED, "slow down"},
		{WrapError(EINTERNAL, errors.New("secret detail"), "Internal error."), EINTERNAL, "Internal error."},
		// The first *Error in the chain wins.
		{WrapError(EFORBIDDEN, Errorf(ENOTFOUND, "inner"), "outer"), EFORBIDDEN, "outer"},
	} {
		if got := ErrorCode(c.err); got != c.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", c.err, got, c.code)
		}
		if got := ErrorMessage(c.err); got != c.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", c.err, got, c.msg)
		}
	}
	// The wrapped cause of an *Error never reaches ErrorMessage.
	if msg := ErrorMessage(WrapError(EINTERNAL, errors.New("password=hunter2"), "Internal error.")); msg != "Internal error." {
		t.Errorf("ErrorMessage leaks the cause: %q", msg)
	}
}

func TestValidation(t *testing.T) {
	var v Validation
	if err := v.Err(); err != nil {
		t.Fatalf("empty Validation: %v", err)
	}
	v.Add("name", "is required")
	err := v.Err()
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Message != "name: is required" || len(e.Fields) != 1 {
		t.Fatalf("one field: %#v", err)
	}
	v.Add("url", "must start with %s", "http://")
	v.Add("events[2]", "%s", "100% wrong") // a message with '%' is kept verbatim through "%s"
	err = v.Err()
	if !errors.As(err, &e) || e.Message != "name: is required (and 2 more)" {
		t.Fatalf("three fields: %q", err)
	}
	want := []FieldError{{"name", "is required"}, {"url", "must start with http://"}, {"events[2]", "100% wrong"}}
	if !slices.Equal(e.Fields, want) {
		t.Errorf("Fields = %+v, want %+v", e.Fields, want)
	}
	if ErrorCode(err) != EINVALID {
		t.Errorf("ErrorCode = %q", ErrorCode(err))
	}
}

// Every code is distinct and non-empty.
func TestErrorCodesDistinct(t *testing.T) {
	codes := []string{EINVALID, EMALFORMED, EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND, ECONFLICT, ETOOLARGE, ERATELIMITED, EUNAVAILABLE, EINTERNAL, ENOTIMPL}
	seen := map[string]bool{}
	for _, c := range codes {
		if c == "" || seen[c] {
			t.Errorf("code %q is empty or repeated", c)
		}
		seen[c] = true
	}
}
