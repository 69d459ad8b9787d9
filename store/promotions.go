package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/scan"
)

// Promotion is a request to deploy a build into an environment under the environment's release rules.
type Promotion struct {
	// ID names the request; required and unique.
	ID                              string
	Project, Component, Environment string
	// From is the environment promoted from; "" for a deploy.
	From string
	// BuildID and Digest are what is deployed.
	BuildID, Digest string
	// Requester is the name of the token that asked.
	Requester string
	// Status is one of api's Promotion* statuses; required.
	Status string
	// Message says why it waits, failed or ended.
	Message string
	// MinApprovals is how many distinct approvers it needs; zero means none.
	MinApprovals int
	// BreakGlass is an admin's reason to go through a freeze window or stopped line; "" for none.
	BreakGlass string
	// WaitingUntil is when the freeze window it waits for ends; nil when it does not wait for one.
	WaitingUntil *time.Time
	// DeploymentID is the deployment it queued; "" until then.
	DeploymentID string
	// Diff is what it changes, read when requested; nil when it could not be read.
	Diff *api.PromotionDiff
	// Rescan is the re-scan of the digest at promotion into production; nil until then.
	Rescan *scan.Summary
	// WorkflowID names its Promotion workflow; "" when it needed none.
	WorkflowID string
	// Votes are the approvers' decisions, oldest first; read only (AddPromotionVote adds one).
	Votes []api.PromotionVote
	// CreatedAt and UpdatedAt are set by the store; ExpiresAt is nil when no approval is waited for.
	CreatedAt, UpdatedAt time.Time
	ExpiresAt            *time.Time
}

func promotionRef(id string) string { return "promotion request " + id }

const promotionColumns = "id, project, component, environment, source_env, build_id, digest, requester, status, message, " +
	"min_approvals, break_glass, waiting_until, deployment_id, diff, rescan, workflow_id, created_at, updated_at, expires_at"

// CreatePromotion records p and returns it as stored. It fails with ErrNotFound when its component or
// environment does not exist, ErrExists when its ID is taken and ErrInvalid without an ID or status.
func (s *Store) CreatePromotion(ctx context.Context, p Promotion) (Promotion, error) {
	if p.ID == "" || p.Status == "" {
		return Promotion{}, invalid("a promotion request needs an ID and a status")
	}
	p.CreatedAt = now()
	p.UpdatedAt, p.Votes = p.CreatedAt, []api.PromotionVote{}
	err := s.inTx(ctx, func(c conn) error {
		if err := c.requireConfigParents(ctx, p.Project, p.Component, p.Environment, lockShare); err != nil {
			return err
		}
		args, err := promotionArgs(p)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "INSERT INTO promotions ("+promotionColumns+") VALUES ("+placeholders(20)+")", args...); err != nil {
			if isUniqueViolation(err) {
				return exists(promotionRef(p.ID))
			}
			return fmt.Errorf("creating %s: %w", promotionRef(p.ID), err)
		}
		return appendEvent(ctx, c, promotionEvent(p))
	})
	if err != nil {
		return Promotion{}, err
	}
	return p, nil
}

// GetPromotion returns the request with its votes, or an error wrapping ErrNotFound.
func (s *Store) GetPromotion(ctx context.Context, id string) (Promotion, error) {
	return getPromotion(ctx, s.db(), id, lockNone)
}

func getPromotion(ctx context.Context, c conn, id string, l lock) (Promotion, error) {
	p, err := scanPromotion(c.queryRow(ctx, "SELECT "+promotionColumns+" FROM promotions WHERE id = ?"+c.d.suffix(l), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Promotion{}, notFound(promotionRef(id))
	}
	if err != nil {
		return Promotion{}, fmt.Errorf("getting %s: %w", promotionRef(id), err)
	}
	if p.Votes, err = promotionVotes(ctx, c, id); err != nil {
		return Promotion{}, err
	}
	return p, nil
}

// ListPromotions returns the project's requests, newest first, at most limit (zero or less means 100) of them;
// status "" lists every status, component "" every component's. Votes are read too.
func (s *Store) ListPromotions(ctx context.Context, project, component, status string, limit int) ([]Promotion, error) {
	if limit <= 0 {
		limit = 100
	}
	q, args := "SELECT "+promotionColumns+" FROM promotions WHERE project = ?", []any{project}
	if component != "" {
		q, args = q+" AND component = ?", append(args, component)
	}
	if status != "" {
		q, args = q+" AND status = ?", append(args, status)
	}
	c := s.db()
	rows, err := c.query(ctx, q+fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("listing the promotion requests of %s: %w", projectRef(project), err)
	}
	out := []Promotion{}
	for rows.Next() {
		p, err := scanPromotion(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing the promotion requests of %s: %w", projectRef(project), err)
		}
		out = append(out, p)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("listing the promotion requests of %s: %w", projectRef(project), err)
	}
	if len(out) == 0 {
		if err := c.requireProject(ctx, project, lockNone); err != nil {
			return nil, err
		}
	}
	for i := range out {
		if out[i].Votes, err = promotionVotes(ctx, c, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdatePromotion applies update to the request under a row lock and stores the result; update may refuse by
// returning an error, which is returned as is. The identity (ID, project, component, environment, build) and
// the votes cannot change. It fails with ErrNotFound when there is no such request.
func (s *Store) UpdatePromotion(ctx context.Context, id string, update func(*Promotion) error) (Promotion, error) {
	var out Promotion
	err := s.inTx(ctx, func(c conn) error {
		p, err := getPromotion(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		orig := p
		if err := update(&p); err != nil {
			return err
		}
		if p.ID != orig.ID || p.Project != orig.Project || p.Component != orig.Component || p.Environment != orig.Environment ||
			p.BuildID != orig.BuildID || p.Digest != orig.Digest {
			return invalid("update of %s changed its identity", promotionRef(id))
		}
		p.UpdatedAt, p.Votes = now(), orig.Votes
		args, err := promotionArgs(p)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE promotions SET status = ?, message = ?, min_approvals = ?, break_glass = ?,
			waiting_until = ?, deployment_id = ?, diff = ?, rescan = ?, workflow_id = ?, updated_at = ?, expires_at = ?
			WHERE id = ?`, p.Status, p.Message, p.MinApprovals, p.BreakGlass, args[12], p.DeploymentID, args[14], args[15],
			p.WorkflowID, toDB(p.UpdatedAt), args[19], id); err != nil {
			return fmt.Errorf("updating %s: %w", promotionRef(id), err)
		}
		out = p
		return appendEvent(ctx, c, promotionEvent(p))
	})
	return out, err
}

// AddPromotionVote records v on the request, after check (called under the request's row lock with the
// request and its votes so far) lets it; check may refuse by returning an error, which is returned as is. It
// fails with ErrExists when v.Actor has already decided and ErrNotFound when there is no such request. It
// returns the request with its votes.
func (s *Store) AddPromotionVote(ctx context.Context, id string, v api.PromotionVote, check func(Promotion) error) (Promotion, error) {
	var out Promotion
	v.At = now()
	err := s.inTx(ctx, func(c conn) error {
		p, err := getPromotion(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		if err := check(p); err != nil {
			return err
		}
		if _, err := c.exec(ctx, "INSERT INTO promotion_votes (promotion_id, actor, decision, comment, at) VALUES (?, ?, ?, ?, ?)",
			id, v.Actor, v.Decision, v.Comment, toDB(v.At)); err != nil {
			if isUniqueViolation(err) {
				return exists(fmt.Sprintf("%s's decision on %s", v.Actor, promotionRef(id)))
			}
			return fmt.Errorf("recording a decision on %s: %w", promotionRef(id), err)
		}
		if _, err := c.exec(ctx, "UPDATE promotions SET updated_at = ? WHERE id = ?", toDB(v.At), id); err != nil {
			return fmt.Errorf("recording a decision on %s: %w", promotionRef(id), err)
		}
		p.Votes = append(p.Votes, v)
		out = p
		return appendEvent(ctx, c, promotionEvent(p))
	})
	return out, err
}

func promotionEvent(p Promotion) Event {
	return Event{Kind: EventPromotion, Project: p.Project, Component: p.Component, Environment: p.Environment, Ref: p.ID, State: p.Status}
}

func promotionVotes(ctx context.Context, c conn, id string) ([]api.PromotionVote, error) {
	rows, err := c.query(ctx, "SELECT actor, decision, comment, at FROM promotion_votes WHERE promotion_id = ? ORDER BY at, actor", id)
	if err != nil {
		return nil, fmt.Errorf("reading the decisions on %s: %w", promotionRef(id), err)
	}
	defer rows.Close()
	out := []api.PromotionVote{}
	for rows.Next() {
		var v api.PromotionVote
		var at int64
		if err := rows.Scan(&v.Actor, &v.Decision, &v.Comment, &at); err != nil {
			return nil, fmt.Errorf("reading the decisions on %s: %w", promotionRef(id), err)
		}
		v.At = fromDB(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// promotionArgs returns p's values in promotionColumns order.
func promotionArgs(p Promotion) ([]any, error) {
	diff, err := jsonColumn(p.Diff)
	if err != nil {
		return nil, err
	}
	rescan, err := jsonColumn(p.Rescan)
	if err != nil {
		return nil, err
	}
	return []any{p.ID, p.Project, p.Component, p.Environment, p.From, p.BuildID, p.Digest, p.Requester, p.Status, p.Message,
		p.MinApprovals, p.BreakGlass, optionalTime(p.WaitingUntil), p.DeploymentID, diff, rescan, p.WorkflowID,
		toDB(p.CreatedAt), toDB(p.UpdatedAt), optionalTime(p.ExpiresAt)}, nil
}

func scanPromotion(row interface{ Scan(...any) error }) (Promotion, error) {
	var p Promotion
	var waiting, expires sql.NullInt64
	var diff, rescan sql.NullString
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Project, &p.Component, &p.Environment, &p.From, &p.BuildID, &p.Digest, &p.Requester,
		&p.Status, &p.Message, &p.MinApprovals, &p.BreakGlass, &waiting, &p.DeploymentID, &diff, &rescan, &p.WorkflowID,
		&created, &updated, &expires); err != nil {
		return Promotion{}, err
	}
	p.CreatedAt, p.UpdatedAt = fromDB(created), fromDB(updated)
	p.WaitingUntil, p.ExpiresAt = timeOrNil(waiting), timeOrNil(expires)
	if diff.Valid {
		p.Diff = new(api.PromotionDiff)
		if err := json.Unmarshal([]byte(diff.String), p.Diff); err != nil {
			return Promotion{}, fmt.Errorf("reading the diff of %s: %w", promotionRef(p.ID), err)
		}
	}
	if rescan.Valid {
		p.Rescan = new(scan.Summary)
		if err := json.Unmarshal([]byte(rescan.String), p.Rescan); err != nil {
			return Promotion{}, fmt.Errorf("reading the re-scan of %s: %w", promotionRef(p.ID), err)
		}
	}
	return p, nil
}

// jsonColumn is v as a JSON text column; NULL for a nil pointer.
func jsonColumn[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding a column: %w", err)
	}
	return string(b), nil
}

func timeOrNil(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromDB(v.Int64)
	return &t
}

// endPromotionOf ends the promotion request that queued d, when d has just ended: succeeded or failed as d did,
// in the same transaction, with an audit entry. A deployment no request queued changes nothing.
func endPromotionOf(ctx context.Context, c conn, d Deployment) error {
	if d.Status != api.DeploymentSucceeded && d.Status != api.DeploymentFailed {
		return nil
	}
	var id string
	err := c.queryRow(ctx, "SELECT id FROM promotions WHERE deployment_id = ? AND status = ?"+c.d.suffix(lockUpdate),
		d.ID, api.PromotionDeploying).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the promotion request of %s: %w", deploymentRef(d.ID), err)
	}
	status, msg, result := api.PromotionSucceeded, "deployed: "+d.ID, "succeeded"
	if d.Status == api.DeploymentFailed {
		status, msg, result = api.PromotionFailed, "deployment "+d.ID+" failed: "+d.Message, "failed: "+d.Message
	}
	if _, err := c.exec(ctx, "UPDATE promotions SET status = ?, message = ?, updated_at = ? WHERE id = ?",
		status, msg, toDB(now()), id); err != nil {
		return fmt.Errorf("ending %s: %w", promotionRef(id), err)
	}
	if err := appendAudit(ctx, c, AuditEntry{Actor: "slipway", Action: api.AuditPromotionEnd, Project: d.Project,
		Component: d.Component, Environment: d.Environment, Target: id, Result: result}); err != nil {
		return err
	}
	return appendEvent(ctx, c, Event{Kind: EventPromotion, Project: d.Project, Component: d.Component, Environment: d.Environment, Ref: id, State: status})
}

// PutPromotionScan keeps the re-scan report of the request's digest and its summary on the request,
// replacing an earlier one. It fails with ErrNotFound when there is no such request.
func (s *Store) PutPromotionScan(ctx context.Context, id string, r scan.Report, sum scan.Summary) error {
	report, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the re-scan of %s: %w", promotionRef(id), err)
	}
	summary, err := json.Marshal(sum)
	if err != nil {
		return fmt.Errorf("encoding the re-scan of %s: %w", promotionRef(id), err)
	}
	return s.inTx(ctx, func(c conn) error {
		p, err := getPromotion(ctx, c, id, lockUpdate)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM promotion_scans WHERE promotion_id = ?", id); err != nil {
			return fmt.Errorf("replacing the re-scan of %s: %w", promotionRef(id), err)
		}
		if _, err := c.exec(ctx, "INSERT INTO promotion_scans (promotion_id, build_id, report, at) VALUES (?, ?, ?, ?)",
			id, p.BuildID, string(report), toDB(now())); err != nil {
			return fmt.Errorf("storing the re-scan of %s: %w", promotionRef(id), err)
		}
		if _, err := c.exec(ctx, "UPDATE promotions SET rescan = ?, updated_at = ? WHERE id = ?", string(summary), toDB(now()), id); err != nil {
			return fmt.Errorf("storing the re-scan of %s: %w", promotionRef(id), err)
		}
		return appendEvent(ctx, c, promotionEvent(p))
	})
}

// GetPromotionScan returns the re-scan report of the request. It fails with ErrNotFound when there is none.
func (s *Store) GetPromotionScan(ctx context.Context, id string) (scan.Report, error) {
	var report string
	err := s.db().queryRow(ctx, "SELECT report FROM promotion_scans WHERE promotion_id = ?", id).Scan(&report)
	if errors.Is(err, sql.ErrNoRows) {
		return scan.Report{}, notFound("re-scan of " + promotionRef(id))
	}
	if err != nil {
		return scan.Report{}, fmt.Errorf("reading the re-scan of %s: %w", promotionRef(id), err)
	}
	var r scan.Report
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		return scan.Report{}, fmt.Errorf("decoding the re-scan of %s: %w", promotionRef(id), err)
	}
	return r, nil
}
