package client_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// demoServer runs the real API over a fresh SQLite store (without a
// dispatcher: deliveries stay pending) and returns its URL, an admin key and
// a function that stops it.
func demoServer() (url, adminKey string, stop func()) {
	dir, err := os.MkdirTemp("", "hookd-client-example")
	if err != nil {
		panic(err)
	}
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		panic(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "hookd.db"),
		Sealer: box, Synchronous: "NORMAL"})
	if err != nil {
		panic(err)
	}
	api, err := httpapi.New(httpapi.Config{Store: db})
	if err != nil {
		panic(err)
	}
	key := hookd.NewKeyText(true)
	now := time.Now()
	if err := db.KeyCreate(context.Background(), &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), Name: "admin",
		Prefix: hookd.DisplayPrefix(key), Hash: hookd.HashKey(key), CreatedAt: now}); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(api.Handler())
	return srv.URL, key, func() {
		srv.Close()
		db.Close()
		os.RemoveAll(dir)
	}
}
