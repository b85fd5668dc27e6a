package cli

import (
	"fmt"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// deliveriesCmd is `hookd deliveries`: read the delivery log and redeliver.
type deliveriesCmd struct {
	List  deliveriesListCmd  `cmd:"" help:"List deliveries, newest first."`
	Get   deliveriesGetCmd   `cmd:"" help:"Show a delivery with every attempt."`
	Retry deliveriesRetryCmd `cmd:"" help:"Redeliver now (one more attempt, whatever the state)."`
}

type deliveriesListCmd struct {
	apiFlags
	projectFlag
	listFlags
	Webhook string `help:"Only deliveries to this webhook."`
	Event   string `help:"Only deliveries of this event."`
	State   string `help:"Only deliveries in this state: pending, succeeded, failed or canceled."`
}

func (c *deliveriesListCmd) Run(env *Env) error {
	if c.State != "" && !hookd.DeliveryState(c.State).Valid() {
		return usagef(env, "--state %q: want pending, succeeded, failed or canceled", c.State)
	}
	page, err := c.client().ListDeliveries(env.Ctx, c.Project, client.DeliveryListOptions{ListOptions: c.options(),
		Webhook: c.Webhook, Event: c.Event, State: hookd.DeliveryState(c.State)})
	if err != nil {
		return err
	}
	return printList(env, &c.listFlags, page, deliveryHeader, deliveryRow)
}

type deliveriesGetCmd struct {
	apiFlags
	projectFlag
	ID   string `arg:"" help:"Delivery id (dlv_…)."`
	JSON bool   `name:"json" help:"Print the delivery and its attempts as JSON."`
	Body bool   `help:"Also print each attempt's request and response bodies."`
}

func (c *deliveriesGetCmd) Run(env *Env) error {
	d, err := c.client().GetDelivery(env.Ctx, c.Project, c.ID)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.Stdout, d)
	}
	o := env.Stdout
	fmt.Fprintf(o, "id:       %s\n", d.ID)
	fmt.Fprintf(o, "event:    %s (%s)\n", d.EventID, d.EventType)
	fmt.Fprintf(o, "webhook:  %s\n", d.WebhookID)
	fmt.Fprintf(o, "state:    %s\n", d.State)
	if d.State == hookd.StatePending {
		fmt.Fprintf(o, "next:     %s\n", ago(d.NextAttemptAt))
	}
	if len(d.Attempts) == 0 {
		fmt.Fprintln(o, "attempts: none yet")
		return nil
	}
	fmt.Fprintln(o, "attempts:")
	for _, a := range d.Attempts {
		result := a.Error
		if a.Response != nil {
			result = fmt.Sprintf("HTTP %d", a.Response.Status)
		}
		fmt.Fprintf(o, "  #%d %s %s %s %.0f ms: %s → %s\n", a.Number, ago(&a.StartedAt), a.Trigger,
			a.Request.Method+" "+a.Request.URL, a.DurationMS, result, a.Outcome)
		if c.Body {
			fmt.Fprintf(o, "    request:  %s\n", prettyBody([]byte(a.Request.Body)))
			if a.Response != nil {
				fmt.Fprintf(o, "    response: %s\n", prettyBody([]byte(a.Response.Body)))
			}
		}
	}
	return nil
}

type deliveriesRetryCmd struct {
	apiFlags
	projectFlag
	ID   string `arg:"" help:"Delivery id (dlv_…)."`
	JSON bool   `name:"json" help:"Print the delivery as JSON."`
}

func (c *deliveriesRetryCmd) Run(env *Env) error {
	d, err := c.client().RetryDelivery(env.Ctx, c.Project, c.ID)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.Stdout, d)
	}
	fmt.Fprintf(env.Stdout, "%s is due now (state %s, %d attempts so far)\n", d.ID, d.State, d.AttemptCount)
	return nil
}
