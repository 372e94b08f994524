// Package migrations embeds Vigil's SQL schema so every binary can migrate
// the database it is pointed at (vigilctl migrate, and tests). Files are
// plain SQL in goose's format, numbered; numbers are never reused.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// FS holds the migration files.
func FS() fs.FS { return files }

// Up applies every pending migration and returns the versions it applied.
// A session-level advisory lock serialises concurrent callers (several
// workers starting at once, parallel test packages).
func Up(ctx context.Context, db *sql.DB, log *slog.Logger) ([]int64, error) {
	p, err := newProvider(db)
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("applying migrations: %w", err)
	}
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
		if log != nil {
			log.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	return applied, nil
}

// Status lists every known migration and whether it has been applied.
func Status(ctx context.Context, db *sql.DB) ([]*goose.MigrationStatus, error) {
	p, err := newProvider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading migration status: %w", err)
	}
	return st, nil
}

func newProvider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("creating migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

// UpURL applies pending migrations to the database at url.
func UpURL(ctx context.Context, url string, log *slog.Logger) error {
	db, err := OpenDB(url)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = Up(ctx, db, log)
	return err
}

// OpenDB opens a database/sql handle on url, as goose needs one.
func OpenDB(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing database url: %w", err)
	}
	return stdlib.OpenDB(*cfg), nil
}
