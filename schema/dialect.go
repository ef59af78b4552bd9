package schema

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// The few places where SQLite and PostgreSQL need different SQL.

// forUpdate locks the rows a read returns until the transaction ends. SQLite
// needs no lock: its writer transactions are already exclusive.
func (s *Store) forUpdate() string {
	if s.dialect == Postgres {
		return ` FOR UPDATE`
	}
	return ``
}

// IsUnavailable tells whether err means the database could not be reached
// or went away (a restart, a dropped connection), as opposed to a bad query:
// callers answer 503 and try again later.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection exceptions, 57P0x the server shutting down
		// or starting up, 53300 too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300"
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "broken pipe")
}

// greatest0 is max(expr, 0): SQLite's scalar MAX, PostgreSQL's GREATEST.
func (s *Store) greatest0(expr string) string {
	if s.dialect == Postgres {
		return `GREATEST(` + expr + `, 0)`
	}
	return `MAX(` + expr + `, 0)`
}

// skipLocked lets concurrent claimers of a work queue pass over each
// other's rows on PostgreSQL. SQLite has one writer at a time: nothing to
// skip.
func (s *Store) skipLocked() string {
	if s.dialect == Postgres {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ``
}
