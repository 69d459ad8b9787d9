package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/delivery"
	"github.com/slipway-dev/slipway/workflows"
)

// ErrTypePromotionRefused means a promotion request's build may no longer go where it was asked to (it was
// quarantined, its configs went missing); the message says why.
const ErrTypePromotionRefused = "PromotionRefused"

// Promotions runs the steps of the Promotion workflow over the promotion use cases. The zero Promotions is not
// usable: Store and Temporal are required.
type Promotions struct {
	Store PromotionStore
	// Temporal queues the deployments approved requests ask for, offers candidates for auto-promotion and starts
	// the promotion requests auto-promotion makes.
	Temporal PromotionClient
}

// PromotionStore is the part of the metadata store the promotion activities use.
type PromotionStore interface {
	delivery.PromotionStore
	delivery.AutoPromoteStore
}

// PromotionClient is the part of the Temporal client the promotion activities use (client.Client).
type PromotionClient interface {
	Signaller
	delivery.PromotionClient
}

func (p *Promotions) use() *delivery.Promotions {
	return &delivery.Promotions{Store: p.Store, Deploys: &delivery.Deploys{Store: p.Store, Temporal: p.Temporal}, Temporal: p.Temporal}
}

// OfferPromotion offers a deployment serving verified to the auto-promotion of the next environment, when its
// policy is auto (delivery.Promotions.Offer).
func (p *Promotions) OfferPromotion(ctx context.Context, in workflows.OfferPromotionInput) error {
	return p.use().Offer(ctx, in.DeploymentID)
}

// AutoPromote requests the promotion of a candidate whose soak time has passed, if it is still eligible
// (delivery.Promotions.AutoPromote).
func (p *Promotions) AutoPromote(ctx context.Context, in workflows.AutoPromoteInput) (workflows.AutoPromoteResult, error) {
	return p.use().AutoPromote(ctx, p.Store, in.DeploymentID, in.Environment)
}

// PromotionState reads the request's decisions as recorded.
func (p *Promotions) PromotionState(ctx context.Context, in workflows.PromotionStateInput) (workflows.PromotionState, error) {
	return p.use().State(ctx, in.ID)
}

// CheckPromotion says whether the request may be queued now, or waits (recorded waiting), or is refused.
func (p *Promotions) CheckPromotion(ctx context.Context, in workflows.CheckPromotionInput) (workflows.PromotionCheck, error) {
	return p.use().Check(ctx, in.ID)
}

// QueuePromotion queues the request's deployment, once; a refusal is non-retryable (ErrTypePromotionRefused).
func (p *Promotions) QueuePromotion(ctx context.Context, in workflows.QueuePromotionInput) error {
	err := p.use().Queue(ctx, in.ID)
	if e, ok := errors.AsType[*delivery.Error](err); ok && e.Kind != delivery.Unavailable {
		return temporal.NewNonRetryableApplicationError(e.Message, ErrTypePromotionRefused, err)
	}
	return err
}

// EndPromotion records the request ended, unless it has already.
func (p *Promotions) EndPromotion(ctx context.Context, in workflows.EndPromotionInput) error {
	return p.use().End(ctx, in.ID, in.Status, in.Message)
}
