package schema

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// Secret returns the server secret named name, creating a random one on
// first use. Every instance on one database reads the same value, so tokens
// and IP hashes agree across them.
func (s *Store) Secret(ctx context.Context, name string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	// Insert-if-absent then read: concurrent first starts agree on one value.
	if _, err := s.wdb.ExecContext(ctx, s.q(`INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
		name, hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("store secret: %w", err)
	}
	var v string
	if err := s.db.GetContext(ctx, &v, s.q(`SELECT value FROM server_secrets WHERE name = ?`), name); err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return v, nil
}
