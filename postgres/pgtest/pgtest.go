// Package pgtest gives tests a fresh PostgreSQL database of their own, on
// the server that the environment variable HOOKD_TEST_POSTGRES names
// (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
// Tests that need one are skipped when the variable is unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver
)

// Env is the variable naming the server tests use.
const Env = "HOOKD_TEST_POSTGRES"

// URL returns the server's URL from the environment, or skips the test.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		t.Skip(Env + " is not set: skipping the PostgreSQL tests (set it to e.g. " +
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	return u
}

// FreshDatabase creates an empty database hookd_t_<random> on the server
// of HOOKD_TEST_POSTGRES (skipping the test when it is unset), drops it
// (disconnecting whoever still uses it) when the test ends, and returns
// its URL.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	base := URL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hookd_t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}
