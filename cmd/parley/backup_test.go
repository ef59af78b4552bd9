package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// A backup taken while readers vote holds a consistent snapshot: every
// vote acknowledged before it began, none torn, counters equal to their
// rows; and a server started on the restored file answers the same counts.
func TestBackupUnderWriteLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "parley.db")
	base := startServer(t, map[string]string{"PARLEY_DB": db}, "-demo", "-no-rate-limits")

	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const workers = 4
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				status, body := call(t, "POST", base+"/api/v1/readers", "")
				if status != 201 {
					t.Errorf("reader: %d %v", status, body)
					return
				}
				article := fmt.Sprintf("story-%d", i%5)
				status, body = call(t, "PUT", base+"/api/v1/sites/demo/articles/"+article+"/reactions/mine", `{"reaction":"like"}`,
					"X-Reader-Token", body["token"].(string))
				if status != 200 {
					t.Errorf("vote: %d %v", status, body)
					return
				}
				acked.Add(1)
			}
		}()
	}
	for acked.Load() < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	before := acked.Load()
	out := filepath.Join(dir, "backup.db")
	msg, err := runCmd(t, "", "backup", "-o", out, "-db", db)
	after := acked.Load()
	if err != nil || !strings.Contains(msg, "backup written to "+out) {
		t.Fatalf("backup: %v %s", err, msg)
	}
	// Writes go on after the backup: the copy must not see them.
	for acked.Load() < after+20 {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if _, err := runCmd(t, "", "backup", "-o", out, "-db", db); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("overwrote a backup: %v", err)
	}

	rows, counted := backupCounts(t, out)
	if rows != counted {
		t.Fatalf("backup is torn: %d reaction rows, counters say %d", rows, counted)
	}
	// Up to one vote per worker may have committed before the snapshot and
	// been acknowledged after the backup ended.
	if rows < before || rows > after+workers {
		t.Fatalf("backup holds %d votes; %d were acknowledged before it began and %d when it ended", rows, before, after)
	}

	// Restore as docs/operations.md says: the server stopped, the copy put
	// in the database's place.
	restored := filepath.Join(t.TempDir(), "parley.db")
	copyFile(t, out, restored)
	base2 := startServer(t, map[string]string{"PARLEY_DB": restored}, "-demo")
	status, body := call(t, "GET", base2+"/api/v1/sites/demo/reactions?article=story-0&article=story-1&article=story-2&article=story-3&article=story-4", "")
	if status != 200 {
		t.Fatalf("counts after restore: %d %v", status, body)
	}
	var served int64
	for _, a := range body["articles"].(map[string]any) {
		served += int64(a.(map[string]any)["total"].(float64))
	}
	if served != rows {
		t.Fatalf("restored server counts %d votes, the backup holds %d", served, rows)
	}
}

func TestBackupRefusesPostgres(t *testing.T) {
	_, err := runCmd(t, "", "backup", "-o", filepath.Join(t.TempDir(), "x"), "-db", "postgres://parley@db.internal/parley")
	if err == nil || !strings.Contains(err.Error(), "pg_dump --format=custom") || !strings.Contains(err.Error(), "pg_restore") {
		t.Fatalf("postgres backup: %v", err)
	}
}

func backupCounts(t *testing.T, path string) (rows, counted int64) {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM reactions`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRowContext(ctx, `SELECT COALESCE(SUM(count), 0) FROM reaction_counts`).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	return rows, counted
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
