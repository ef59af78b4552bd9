package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrInvalidText is a text argument the database cannot hold: one with a
// NUL byte or invalid UTF-8. PostgreSQL refuses such text in any
// statement, where SQLite would compare or store it; so that both engines
// answer alike, the store never sends it to PostgreSQL and lookups treat
// it as naming nothing (ErrNotFound, as on SQLite). Writes of such text
// are for callers to refuse before they reach the store.
var ErrInvalidText = errors.New("text with a NUL byte or invalid UTF-8")

// validText tells whether PostgreSQL takes s as text.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// checkTextArg refuses a statement argument PostgreSQL would fail the
// statement on, in any form the store passes text: strings, string types,
// lists of them, and driver.Valuers that yield strings.
func checkTextArg(v any) error {
	switch x := v.(type) {
	case nil, []byte:
		return nil
	case string:
		if !validText(x) {
			return ErrInvalidText
		}
		return nil
	case driver.Valuer:
		dv, err := x.Value()
		if err != nil {
			return nil // the driver reports it
		}
		if _, again := dv.(driver.Valuer); again {
			return nil
		}
		return checkTextArg(dv)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return checkTextArg(rv.String())
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.String {
			for i := 0; i < rv.Len(); i++ {
				if !validText(rv.Index(i).String()) {
					return ErrInvalidText
				}
			}
		}
	case reflect.Pointer:
		if !rv.IsNil() {
			return checkTextArg(rv.Elem().Interface())
		}
	}
	return nil
}

// openPostgres opens a pool whose connections check every argument with
// checkTextArg before pgx sees it: the one place the store guards against
// text PostgreSQL refuses, whichever statement carries it.
func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return sql.OpenDB(textCheckConnector{stdlib.GetConnector(*cfg)}), nil
}

type textCheckConnector struct{ driver.Connector }

func (c textCheckConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("postgres: unexpected connection type %T", conn)
	}
	return &textCheckConn{pc}, nil
}

// textCheckConn is a pgx connection with every other method of its own.
type textCheckConn struct{ *stdlib.Conn }

func (c *textCheckConn) CheckNamedValue(nv *driver.NamedValue) error {
	if err := checkTextArg(nv.Value); err != nil {
		return err
	}
	return c.Conn.CheckNamedValue(nv)
}
