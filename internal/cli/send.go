package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hookd/hookd/client"
)

// apiFlags are the flags of every command that talks to a hookd server.
type apiFlags struct {
	URL string `name:"url" default:"http://127.0.0.1:8080" env:"HOOKD_URL" help:"Base URL of the hookd server."`
	Key string `name:"key" env:"HOOKD_KEY,HOOKD_ADMIN_KEY" help:"API key: the admin key or a project key."`
}

func (f *apiFlags) client() *client.Client { return client.New(f.URL, f.Key) }

// projectFlag names the project of a command.
type projectFlag struct {
	Project string `short:"p" required:"" env:"HOOKD_PROJECT" help:"Project id (prj_…)."`
}

// listFlags page and format a list.
type listFlags struct {
	Limit  int    `default:"20" help:"Most items to show (1 to 100)."`
	Cursor string `help:"Cursor of the page to show (printed after a full page)."`
	JSON   bool   `name:"json" help:"Print the page as JSON ({\"data\": […], \"next_cursor\": …})."`
}

func (f *listFlags) options() client.ListOptions {
	return client.ListOptions{Limit: f.Limit, Cursor: f.Cursor}
}

// usagef prints a usage error and returns the error that exits with 2.
func usagef(env *Env, format string, args ...any) error {
	fmt.Fprintf(env.Stderr, "hookd: "+format+"\n", args...)
	return exitError{2}
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes rows under a header, aligned in columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// printList prints a page as JSON or as a table, with the next cursor.
func printList[T any](env *Env, f *listFlags, page *client.List[T], header []string, row func(T) []string) error {
	if f.JSON {
		return printJSON(env.Stdout, page)
	}
	if len(page.Data) == 0 {
		fmt.Fprintln(env.Stdout, "(none)")
		return nil
	}
	rows := make([][]string, len(page.Data))
	for i, it := range page.Data {
		rows[i] = row(it)
	}
	if err := table(env.Stdout, header, rows); err != nil {
		return err
	}
	if page.NextCursor != "" {
		fmt.Fprintf(env.Stdout, "More: --cursor %s\n", page.NextCursor)
	}
	return nil
}

// ago formats t as a short local time, or "-" when t is nil or zero.
func ago(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// stdin is what `send` reads data from; tests replace it.
var stdin io.Reader = os.Stdin

// sendCmd is `hookd send`: publish an event from the shell.
type sendCmd struct {
	apiFlags
	projectFlag
	Type           string `short:"t" required:"" help:"Event type, e.g. order.paid."`
	Data           string `short:"d" help:"Event data: a JSON object, @file to read a file, or - for stdin. Default: stdin when it is a pipe or file, else {}."`
	IdempotencyKey string `name:"idempotency-key" short:"k" help:"Idempotency-Key: publish at most once per key."`
	ID             string `help:"Event id (publishing an id again is deduplicated); generated when absent."`
	JSON           bool   `name:"json" help:"Print the published event as JSON."`
}

func (c *sendCmd) Run(env *Env) error {
	data, err := readData(c.Data)
	if err != nil {
		return usagef(env, "--data: %v", err)
	}
	ev, err := c.client().PublishEvent(env.Ctx, c.Project, client.Publish{Type: c.Type, Data: json.RawMessage(data),
		ID: c.ID, IdempotencyKey: c.IdempotencyKey})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.Stdout, ev.Event)
	}
	note := ""
	if ev.Replayed {
		note = " (already published with this key: nothing new was sent)"
	}
	fmt.Fprintf(env.Stdout, "%s %s%s\n", ev.ID, ev.Type, note)
	return nil
}

// readData returns the JSON of --data: inline, @file, - (stdin), or stdin
// when absent and stdin is not a terminal.
func readData(arg string) ([]byte, error) {
	var b []byte
	var err error
	switch {
	case arg == "-":
		b, err = io.ReadAll(io.LimitReader(stdin, 64<<20))
	case strings.HasPrefix(arg, "@"):
		b, err = os.ReadFile(arg[1:])
	case arg != "":
		b = []byte(arg)
	default:
		if f, ok := stdin.(*os.File); ok {
			if st, e := f.Stat(); e != nil || st.Mode()&(os.ModeCharDevice|os.ModeDevice) != 0 {
				return []byte("{}"), nil
			}
		}
		b, err = io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err == nil && len(strings.TrimSpace(string(b))) == 0 {
			return []byte("{}"), nil
		}
	}
	if err != nil {
		return nil, err
	}
	trimmed := strings.TrimSpace(string(b))
	if !json.Valid([]byte(trimmed)) {
		return nil, errors.New("not valid JSON")
	}
	if !strings.HasPrefix(trimmed, "{") {
		return nil, errors.New("must be a JSON object")
	}
	return []byte(trimmed), nil
}
