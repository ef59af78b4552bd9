package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/parley/parley/schema"
)

const dsnForms = "use a SQLite file path (./parley.db, /var/lib/parley/parley.db or file:parley.db) or a PostgreSQL URL (postgres://user:password@host:5432/database)"

// dbFlags declares -db and -create for the commands that work on an
// existing database.
func dbFlags(fs *flag.FlagSet) (dsn *string, create *bool) {
	dsn = fs.String("db", "parley.db", "SQLite file path or postgres:// URL")
	create = fs.Bool("create", false, "create the SQLite database if it does not exist (by default a missing file is refused, since it is most often a typo)")
	return dsn, create
}

// checkDSN refuses -db values that look like a URL of an engine Parley
// does not speak, which SQLite would otherwise take as a file name.
func checkDSN(dsn string) error {
	if strings.TrimSpace(dsn) == "" {
		return errors.New("-db is empty: " + dsnForms)
	}
	if schema.DialectOf(dsn) == schema.Postgres {
		u, err := url.Parse(dsn)
		if err != nil {
			return fmt.Errorf("-db %s is not a valid URL (%v): %s", redact(dsn), unwrapURLError(err), dsnForms)
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return fmt.Errorf("-db %s names no host: %s", redact(dsn), dsnForms)
		}
		return nil
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		return fmt.Errorf("-db %s: %q is not a supported database; %s", redact(dsn), dsn[:i], dsnForms)
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// mustExist refuses a SQLite file that does not exist unless create is
// set: `parley site add -db ./parely.db` would otherwise create an empty
// database and add the site where the server never looks.
func mustExist(dsn string, create bool) error {
	if err := checkDSN(dsn); err != nil {
		return err
	}
	if create || schema.DialectOf(dsn) == schema.Postgres {
		return nil
	}
	path := schema.SQLitePath(dsn)
	if path == ":memory:" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("database %s does not exist (a typo?): start parley serve or run parley migrate -db %s to create it, or add -create", path, path)
	}
	return nil
}

// checkPublicURL validates -public-url, which starts every link in
// webhooks: a value without scheme or host would make links that lead
// nowhere. A trailing slash is dropped so links do not get "//".
func checkPublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("-public-url %q: want an absolute http or https URL with a host, such as https://comments.news.example", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("-public-url %q: no user, query or fragment, please", s)
	}
	return strings.TrimRight(s, "/"), nil
}
