package handlers

import (
	"errors"
	"net/http"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

type decisionInput struct {
	Action         string `json:"action"`
	Reason         string `json:"reason"`
	ExpectedStatus string `json:"expected_status"`
	Ground         string `json:"ground"`
}

func (in decisionInput) request() moderation.Request {
	return moderation.Request{Action: moderation.Action(in.Action), Reason: in.Reason, Expected: in.ExpectedStatus, Ground: in.Ground}
}

// decide applies one decision; 409 when expected_status no longer holds.
func (s *Server) decide(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "comment")
	if err != nil {
		return err
	}
	var in decisionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.queue.Decide(r.Context(), actor(r), id, in.request())
	if err != nil {
		return notFoundAs(err, "comment")
	}
	writeJSON(w, http.StatusOK, map[string]any{"comment": toModComment(c)})
	return nil
}

type bulkResult struct {
	ID     int64     `json:"id"`
	OK     bool      `json:"ok"`
	Status string    `json:"status,omitempty"`
	Error  *apiError `json:"error,omitempty"`
}

// decideMany applies one decision to up to 200 comments, each on its own:
// the answer has a result per id, in order.
func (s *Server) decideMany(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		IDs []int64 `json:"ids"`
		decisionInput
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	outcomes, err := s.queue.DecideMany(r.Context(), actor(r), in.IDs, in.request())
	if err != nil {
		return err
	}
	results := make([]bulkResult, 0, len(outcomes))
	for _, o := range outcomes {
		res := bulkResult{ID: o.ID, OK: o.Err == nil}
		var conflict *moderation.ConflictError
		switch {
		case o.Err == nil:
			res.Status = o.Comment.Status
		case errors.As(o.Err, &conflict):
			res.Status, res.Error = conflict.Comment.Status, errConflict(conflict.Error())
		case errors.Is(o.Err, schema.ErrNotFound):
			res.Error = errNotFound("comment")
		default:
			res.Error = s.apiError(r, o.Err)
		}
		results = append(results, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}
