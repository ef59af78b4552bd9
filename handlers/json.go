package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// apiError is an error in the contract's shape:
// {"error":{"code","message","fields"}} with a matching status.
type apiError struct {
	Status     int               `json:"-"`
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields,omitempty"`
	RetryAfter time.Duration     `json:"-"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errBadRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

func errNotFound(what string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

func errUnauthorized(msg string) *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
}

func errForbidden(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: msg}
}

func errConflict(msg string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: "conflict", Message: msg}
}

func errValidation(fields map[string]string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "validation_failed",
		Message: "some fields are invalid: see fields", Fields: fields}
}

func errPayloadTooLarge() *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large", Message: "the request body is too large"}
}

func errRateLimited(retry time.Duration) *apiError {
	secs := int(retry.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	return &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: fmt.Sprintf("too many requests: try again in %d s", secs), RetryAfter: time.Duration(secs) * time.Second}
}

// writeJSON encodes v once and writes it with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	writeJSONLine(w, status, append(b, '\n'))
}

// writeJSONLine writes line, JSON and its newline, in one write: net/http
// sends an answer larger than its 4 KiB buffer (a page of comments) as it
// is written, so a newline written after it costs a write to the
// connection of its own.
func writeJSONLine(w http.ResponseWriter, status int, line []byte) {
	setJSONHeaders(w, len(line))
	w.WriteHeader(status)
	w.Write(line)
}

func setJSONHeaders(w http.ResponseWriter, n int) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(n)}
}

// writeError answers with err in the contract's shape.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := s.apiError(r, err)
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(ae.RetryAfter.Seconds()+0.999)))
	}
	writeJSON(w, ae.Status, errorBody{ae})
}

// apiError maps err to the contract's error. Errors that are not an
// *apiError map through moderation's and the store's errors; anything else
// is an internal error, logged with the request id and never shown.
func (s *Server) apiError(r *http.Request, err error) *apiError {
	var ae *apiError
	var fields moderation.FieldErrors
	var conflict *moderation.ConflictError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &fields):
		ae = errValidation(fields)
	case errors.As(err, &conflict):
		ae = errConflict(conflict.Error())
	case errors.Is(err, moderation.ErrSameModerator):
		ae = errForbidden(err.Error())
	case errors.Is(err, moderation.ErrAppealClosed):
		ae = &apiError{Status: http.StatusGone, Code: "appeal_closed", Message: "the six months to appeal this decision are over"}
	case errors.Is(err, moderation.ErrLinkUsed):
		ae = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "this link was used or has expired"}
	case errors.Is(err, schema.ErrNotFound):
		ae = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "not found"}
	case errors.Is(err, schema.ErrInvalidText):
		// Handlers refuse such text in their own words first; this answers
		// whatever still reaches the store, alike on both engines.
		ae = errBadRequest("text must be valid UTF-8 without NUL bytes")
	case errors.Is(err, schema.ErrConflict):
		ae = errConflict("the resource changed or exists already")
	case errors.Is(err, errTooLarge):
		ae = errPayloadTooLarge()
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away: nobody reads this answer, and it is no
		// error of ours worth logging.
		ae = &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the request was canceled"}
		s.log.DebugContext(r.Context(), "request canceled", "request_id", requestID(r.Context()))
	case schema.IsUnavailable(err):
		ae = &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the database is unavailable: try again shortly", RetryAfter: time.Second}
		s.log.ErrorContext(r.Context(), "database unavailable", "err", err, "request_id", requestID(r.Context()))
	default:
		ae = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error: the request id is " + requestID(r.Context())}
		s.log.ErrorContext(r.Context(), "internal error", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()))
	}
	return ae
}

var errTooLarge = errors.New("request body too large")

// decodeJSON reads one JSON object from the body into v, refusing unknown
// fields, trailing data and bodies over the route's limit.
func decodeJSON(r *http.Request, v any) error {
	// The Content-Type is not checked: curl's default form type and a CORS
	// "simple request" text/plain body are both fine as long as the body
	// is JSON. Moderator routes are guarded by the CSRF token instead.
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return errTooLarge
		}
		return errBadRequest("could not read the request body")
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD; a reader's
	// text must come back byte for byte or be refused.
	if !utf8.Valid(raw) {
		return errBadRequest("the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &maxErr):
			return errTooLarge
		case errors.Is(err, io.EOF):
			return errBadRequest("the request body is empty: send a JSON object")
		case errors.As(err, &syn):
			return errBadRequest("malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			if typ.Field != "" {
				return errBadRequest("field %q must be a %s", typ.Field, jsonKind(typ.Type.Kind().String()))
			}
			return errBadRequest("the body must be a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errBadRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return errBadRequest("malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return errBadRequest("the body must hold a single JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return errTooLarge
		}
		return errBadRequest("the body must hold a single JSON object")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "number"
	case "slice":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	}
	return k
}

// errorBody is the contract's error shape: {"error":{…}}.
type errorBody struct {
	Error *apiError `json:"error"`
}
