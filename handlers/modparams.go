package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/parley/parley/schema"
)

// Reading the moderator API's path and query parameters.

// notFoundAs turns the store's ErrNotFound into a not_found naming what.
func notFoundAs(err error, what string) error {
	if errors.Is(err, schema.ErrNotFound) {
		return errNotFound(what)
	}
	return err
}

// pathID is the route's numeric {name}; anything else is not found.
func pathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(routeVar(r, name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound(what)
	}
	return id, nil
}

// queryLimit reads ?limit= from 1 to max, def when absent.
func queryLimit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, errBadRequest("limit must be a number from 1 to %d", max)
	}
	return n, nil
}

// queryCursor reads ?cursor= made for sort; nil when absent.
func queryCursor(r *http.Request, sort string) (*schema.Cursor, error) {
	v := r.URL.Query().Get("cursor")
	if v == "" {
		return nil, nil
	}
	c, err := schema.ParseCursor(v, sort)
	if err != nil {
		return nil, errBadRequest("invalid cursor: %v; start again without one", err)
	}
	return &c, nil
}

func cursorString(c *schema.Cursor) *string {
	if c == nil {
		return nil
	}
	s := c.String()
	return &s
}
