package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportExportCommands runs parley import (file and standard input,
// dry run and a re-run) and parley export through the command line.
func TestImportExportCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	env := func(string) string { return "" }
	cli := func(stdin []byte, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, append([]string{"parley"}, args...), env, bytes.NewReader(stdin), &out, &errb); err != nil {
			t.Fatalf("parley %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	cli(nil, "site", "add", "-slug", "news", "-origin", "https://news.example", "-db", db, "-create")
	fx := filepath.Join("internal", "imports", "testdata", "remark42", "remark42-news-backup.gz")
	if out := cli(nil, "import", "-db", db, "-site", "news", "-format", "remark42", "-dry-run", fx); !strings.Contains(out, "dry run") {
		t.Errorf("dry run: %s", out)
	}
	if out := cli(nil, "import", "-db", db, "-site", "news", "-format", "remark42", fx); !strings.Contains(out, "written: 25, already imported: 0") {
		t.Errorf("import: %s", out)
	}
	b, err := os.ReadFile(fx)
	if err != nil {
		t.Fatal(err)
	}
	if out := cli(b, "import", "-db", db, "-site", "news", "-format", "remark42", "-"); !strings.Contains(out, "written: 0, already imported: 25") {
		t.Errorf("re-run from stdin: %s", out)
	}
	exp := filepath.Join(dir, "news.ndjson")
	cli(nil, "export", "-db", db, "-site", "news", "-o", exp)
	db2 := filepath.Join(dir, "q.db")
	if out := cli(nil, "import", "-create", "-db", db2, "-site", "news", "-format", "parley", exp); !strings.Contains(out, "written: 25") {
		t.Errorf("restore: %s", out)
	}
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"parley", "import", "-db", db, "-site", "nope", "-format", "remark42", fx}, env, nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "no site") {
		t.Errorf("unknown site: %v", err)
	}
}
