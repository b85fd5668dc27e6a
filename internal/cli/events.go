package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// eventsCmd is `hookd events`: read a project's published events.
type eventsCmd struct {
	List eventsListCmd `cmd:"" help:"List the project's events, newest first."`
	Get  eventsGetCmd  `cmd:"" help:"Show an event with its deliveries."`
}

type eventsListCmd struct {
	apiFlags
	projectFlag
	listFlags
	Type  string    `help:"Only events of this type or pattern (deploy.*)."`
	Since time.Time `help:"Only events published at or after this RFC 3339 time." format:"2006-01-02T15:04:05Z07:00"`
}

func (c *eventsListCmd) Run(env *Env) error {
	page, err := c.client().ListEvents(env.Ctx, c.Project, client.EventListOptions{ListOptions: c.options(),
		Type: c.Type, Since: c.Since})
	if err != nil {
		return err
	}
	return printList(env, &c.listFlags, page, []string{"ID", "TYPE", "TIMESTAMP", "IDEMPOTENCY KEY"},
		func(e *hookd.Event) []string {
			k := e.IdempotencyKey
			if k == "" {
				k = "-"
			}
			return []string{e.ID, e.Type, ago(&e.Timestamp), k}
		})
}

type eventsGetCmd struct {
	apiFlags
	projectFlag
	ID   string `arg:"" help:"Event id (evt_…)."`
	JSON bool   `name:"json" help:"Print the event as JSON."`
}

func (c *eventsGetCmd) Run(env *Env) error {
	e, err := c.client().GetEvent(env.Ctx, c.Project, c.ID)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.Stdout, e)
	}
	o := env.Stdout
	fmt.Fprintf(o, "id:        %s\n", e.ID)
	fmt.Fprintf(o, "type:      %s\n", e.Type)
	fmt.Fprintf(o, "timestamp: %s\n", ago(&e.Timestamp))
	if e.IdempotencyKey != "" {
		fmt.Fprintf(o, "idempotency key: %s\n", e.IdempotencyKey)
	}
	fmt.Fprintf(o, "data:      %s\n", prettyBody(e.Data))
	if len(e.Deliveries) == 0 {
		fmt.Fprintln(o, "deliveries: none (no webhook subscribed)")
		return nil
	}
	fmt.Fprintln(o, "deliveries:")
	rows := make([][]string, len(e.Deliveries))
	for i, d := range e.Deliveries {
		rows[i] = deliveryRow(d)
	}
	return table(o, deliveryHeader, rows)
}

var deliveryHeader = []string{"ID", "WEBHOOK", "EVENT TYPE", "STATE", "ATTEMPTS", "LAST STATUS", "NEXT ATTEMPT"}

func deliveryRow(d *hookd.Delivery) []string {
	status := "-"
	if d.LastStatus != 0 {
		status = strconv.Itoa(d.LastStatus)
	} else if d.LastError != "" {
		status = "error"
	}
	next := "-"
	if d.State == hookd.StatePending {
		next = ago(d.NextAttemptAt)
	}
	return []string{d.ID, d.WebhookID, d.EventType, string(d.State), strconv.Itoa(d.AttemptCount), status, next}
}
