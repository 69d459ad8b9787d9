package projectfile

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/slipway-dev/slipway/api"
)

// Applied is what Apply did.
type Applied struct {
	// Changes are the changes made, in order; when Apply failed, those made before the one that failed.
	Changes []Change
	// Webhooks are the webhooks of the components whose auto-build Apply turned on, in order; empty when none.
	Webhooks []Webhook
}

// Webhook is how the pushes of a component's repository reach slipway.
type Webhook struct {
	// Component is "project/component".
	Component string
	// Webhook is the API's answer. When it is not Registered, its Secret is shown this once and the webhook must
	// be added to the repository by hand.
	api.Webhook
}

// Apply makes the plan's changes through c, in order (per project: the project, environments created, their
// order, their settings, components, configs, then deletions), and stops at the first error. That error says
// what was being done and, for a plan of a parsed file, the file's line of the entity or of the field the API
// names ("slipway.yaml:12: projects[0].components[1].repo: creating component shop/hello: …"); errors.As finds
// the API's status in it (a 403 means the change needs an admin token). Applying the plan of a file, then
// diffing the file again, gives no changes.
func (p *Plan) Apply(ctx context.Context, c Client) (*Applied, error) {
	done := &Applied{}
	for _, ch := range p.Changes {
		hook, err := ch.run(ctx, c)
		if err != nil {
			return done, p.file.entityError(ch.path, ch.doing, err)
		}
		done.Changes = append(done.Changes, ch)
		if hook != nil {
			done.Webhooks = append(done.Webhooks, *hook)
		}
	}
	return done, nil
}

// Write writes how many changes were made, then one line per webhook: its URL, and the secret and what to do
// when it is to be added by hand.
func (a *Applied) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "applied %d changes\n", len(a.Changes))
	for _, h := range a.Webhooks {
		if h.Registered {
			fmt.Fprintf(&b, "webhook of %s: %s (registered)\n", h.Component, h.URL)
			continue
		}
		fmt.Fprintf(&b, "webhook of %s: %s", h.Component, h.URL)
		if h.Secret != "" {
			fmt.Fprintf(&b, " secret %s (shown only this once)", h.Secret)
		}
		if h.Note != "" {
			fmt.Fprintf(&b, ": %s", h.Note)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
