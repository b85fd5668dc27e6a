package template

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hookd/hookd"
)

// text/template's error formats, for the one template name this package uses.
var (
	parseErrRE = regexp.MustCompile(`(?s)^template: ` + name + `:(\d+): (.*)$`)
	execErrRE  = regexp.MustCompile(`(?s)^template: ` + name + `:(\d+):(\d+): executing "(?:[^"\\]|\\.)*" at <(.*?)>: (.*)$`)
	quotedRE   = regexp.MustCompile(`"((?:[^"\\]|\\.)+)"`)
	missingRE  = regexp.MustCompile(`^map has no entry for key "((?:[^"\\]|\\.)*)"$`)
	callingRE  = regexp.MustCompile(`^error calling (\w+): `)
)

// compileError rewrites a text/template parse error as "template: line L,
// col C: problem" (col only when the problem names a token found on the
// line).
func compileError(err error, text string) error {
	m := parseErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return hookd.Errorf(hookd.EINVALID, "%s", strings.Replace(err.Error(), name+":", "", 1))
	}
	line, _ := strconv.Atoi(m[1])
	if col := tokenColumn(lineText(text, line), m[2]); col > 0 {
		return hookd.Errorf(hookd.EINVALID, "template: line %d, col %d: %s", line, col, m[2])
	}
	return hookd.Errorf(hookd.EINVALID, "template: line %d: %s", line, m[2])
}

// lineText returns line n (1-based) of text, or "".
func lineText(text string, n int) string {
	for i := 1; i < n; i++ {
		j := strings.IndexByte(text, '\n')
		if j < 0 {
			return ""
		}
		text = text[j+1:]
	}
	line, _, _ := strings.Cut(text, "\n")
	return line
}

// tokenColumn returns the 1-based column of the first token quoted in msg
// within line: its first whole-word occurrence for a name ("secrt",
// "$x"), its only occurrence for anything else; 0 when unknown.
func tokenColumn(line, msg string) int {
	m := quotedRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	tok, err := strconv.Unquote(`"` + m[1] + `"`)
	if err != nil || tok == "" {
		return 0
	}
	if !isName(tok) {
		if strings.Count(line, tok) != 1 {
			return 0
		}
		return strings.Index(line, tok) + 1
	}
	for off := 0; ; {
		i := strings.Index(line[off:], tok)
		if i < 0 {
			return 0
		}
		i += off
		end := i + len(tok)
		if (i == 0 || !isNameByte(line[i-1])) && (end == len(line) || !isNameByte(line[end])) {
			return i + 1
		}
		off = i + 1
	}
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) && !(i == 0 && s[i] == '$') {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// execError turns an error of Execute into the error Render returns: an
// *hookd.Error with a message located at the template's line and column,
// without secret values; EUNAVAILABLE wrapping ctx.Err() when ctx is done.
func (st *renderState) execError(err error, o Options) error {
	var loc string
	if m := execErrRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		loc = fmt.Sprintf("line %d, col %d: ", line, col+1)
		err = locatedError(err, m[3], m[4])
	}
	code, msg := hookd.EINVALID, ""
	var he *hookd.Error
	switch {
	case st.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return &hookd.Error{Code: hookd.EUNAVAILABLE, Message: "template: " + loc + "rendering stopped", Err: st.ctx.Err()}
	case errors.Is(err, errTimeout):
		msg = fmt.Sprintf("rendering took longer than %s", o.Timeout)
	case errors.Is(err, errTooLarge):
		msg = fmt.Sprintf("output is over the %d-byte limit", o.MaxBytes)
	case errors.As(err, &he):
		code, msg = he.Code, he.Message
	default:
		msg = strings.TrimPrefix(strings.TrimPrefix(err.Error(), "template: "), name+": ")
	}
	out := &hookd.Error{Code: code, Message: Redact("template: "+loc+msg, st.used)}
	if he != nil {
		out.Err = he.Err // the secret store's error, for logs
	}
	return out
}

// locatedError returns the part of an execution error that follows its
// location: the function's own error when one of ours failed, else the
// message, with a hint for missing keys.
func locatedError(err error, node, msg string) error {
	var he *hookd.Error
	if errors.As(err, &he) || errors.Is(err, errTimeout) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if m := missingRE.FindStringSubmatch(msg); m != nil {
		msg += " (" + getHint(node, m[1]) + ")"
	}
	if m := callingRE.FindStringSubmatch(msg); m != nil {
		msg = m[1] + ": " + msg[len(m[0]):]
	}
	return errors.New(msg)
}

// getHint suggests get for a missing key: for <.data.evaluation.result>
// missing "evaluation", `use get .data "evaluation.result" for optional fields`.
func getHint(context, key string) string {
	const generic = "use get for optional fields"
	if strings.ContainsAny(context, " ()|\"") || key == "" {
		return generic
	}
	seg := "." + key
	for off := 0; ; {
		i := strings.Index(context[off:], seg)
		if i < 0 {
			return generic
		}
		i += off
		end := i + len(seg)
		if end == len(context) || context[end] == '.' {
			base := context[:i]
			if base == "" {
				base = "."
			}
			return fmt.Sprintf("use get %s %q for optional fields", base, context[i+1:])
		}
		off = i + 1
	}
}
