package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/server"
	"github.com/hookd/hookd/sqlite"
)

// rotateKeyCmd re-encrypts every secret at rest with a new encryption key.
type rotateKeyCmd struct {
	Data     string `default:"./hookd-data" env:"HOOKD_DATA" help:"Data directory (database, encryption.key)."`
	Database string `env:"HOOKD_DATABASE" help:"Database: empty for <data>/hookd.db, sqlite:<path>, or postgres://…"`
	OldKey   string `name:"old-key" env:"HOOKD_ENCRYPTION_KEY" help:"The key secrets are encrypted with now (base64); else <data>/encryption.key."`
	NewKey   string `name:"new-key" help:"The key to encrypt with from now on (base64, 32 bytes); made when not given and the keys are in files."`
	Reseal   bool   `help:"Rolling rotation: re-encrypt with the current key (HOOKD_ENCRYPTION_KEY, else <data>/encryption.key) what is still encrypted with a previous key (--previous-keys, <data>/encryption.key.old); writes no key file."`
	Previous string `name:"previous-keys" env:"HOOKD_ENCRYPTION_KEY_OLD" help:"With --reseal: the previous keys, comma-separated base64."`
}

// Help is shown by `hookd rotate-encryption-key --help`.
func (rotateKeyCmd) Help() string {
	return `Re-encrypts every secret stored at rest (webhook signing secrets, named
secrets, incoming hooks' tokens and secrets) with a new encryption key.

With SQLite, stop hookd first: the command takes the data directory's lock.
With PostgreSQL, stop every node or restart them all with the new key right
after (a node still holding only the old key cannot read re-encrypted
values), or rotate while they run, as below.

Key files (the default): the key in <data>/encryption.key is the old key; the
new key (--new-key, or a new random one) is first written to
<data>/encryption.key.new, every value is re-encrypted, then encryption.key is
renamed encryption.key.old and encryption.key.new becomes encryption.key. An
interrupted run can simply be run again: it picks up encryption.key.new.

Keys from the environment: give --old-key (or HOOKD_ENCRYPTION_KEY) and
--new-key; no file is written. Then start hookd with HOOKD_ENCRYPTION_KEY set
to the new key.

Rolling rotation (PostgreSQL nodes keep running; see docs/configuration.md):
restart every node, one at a time, with the new key added as
HOOKD_ENCRYPTION_KEY_OLD; then again with the new key as HOOKD_ENCRYPTION_KEY
(or encryption.key) and the old one as HOOKD_ENCRYPTION_KEY_OLD (or
encryption.key.old): nodes then seal with the new key and still open what the
old one sealed. Then run, with the same keys, hookd rotate-encryption-key
--reseal: it re-encrypts what is still under the old key, after checking that
every value opens (otherwise it changes nothing). Last, remove the old key
from every node.`
}

func (c *rotateKeyCmd) Run(env *Env) error {
	path, pgURL, err := server.Database(c.Data, c.Database)
	if err != nil {
		return err
	}
	if pgURL == "" {
		lock, err := server.LockDataDir(c.Data)
		if err != nil {
			return err
		}
		defer lock.Close()
	}

	if c.Reseal {
		return c.reseal(env, path, pgURL)
	}
	keyFile := filepath.Join(c.Data, "encryption.key")
	fileMode := c.OldKey == ""
	var oldKeys [][]byte
	var newKey []byte
	if c.NewKey != "" {
		if newKey, err = secretbox.ParseKey(c.NewKey); err != nil {
			return fmt.Errorf("--new-key: %w", err)
		}
	}
	if fileMode {
		old, err := readKeyFile(keyFile)
		if err != nil {
			return fmt.Errorf("no --old-key and %w", err)
		}
		oldKeys = append(oldKeys, old)
		if prev, err := readKeyFile(keyFile + ".old"); err == nil {
			oldKeys = append(oldKeys, prev) // values an earlier rotation missed
		}
		pending, err := readKeyFile(keyFile + ".new")
		switch {
		case err == nil && newKey != nil && secretbox.KeyID(pending) != secretbox.KeyID(newKey):
			return fmt.Errorf("%s.new holds another key than --new-key (an interrupted rotation?): "+
				"run again without --new-key to finish it", keyFile)
		case err == nil:
			newKey = pending
		case !errors.Is(err, os.ErrNotExist):
			return err
		default:
			if newKey == nil {
				newKey = secretbox.NewKey()
			}
			if err := writeKeyFile(keyFile+".new", newKey); err != nil {
				return err
			}
		}
	} else {
		old, err := secretbox.ParseKey(c.OldKey)
		if err != nil {
			return fmt.Errorf("--old-key: %w", err)
		}
		if newKey == nil {
			return errors.New("--new-key is required with --old-key (generate one with `openssl rand -base64 32`)")
		}
		oldKeys = append(oldKeys, old)
	}
	for _, k := range oldKeys {
		if secretbox.KeyID(k) == secretbox.KeyID(newKey) && !fileMode {
			return errors.New("--new-key is the same as the old key")
		}
	}
	box, err := secretbox.New(newKey, oldKeys...)
	if err != nil {
		return err
	}

	n, err := reseal(env.Ctx, path, pgURL, box)
	if err != nil {
		return err
	}
	if fileMode {
		if err := os.Rename(keyFile, keyFile+".old"); err != nil {
			return err
		}
		if err := os.Rename(keyFile+".new", keyFile); err != nil {
			return err
		}
		syncDir(c.Data)
		fmt.Fprintf(env.Stdout, "re-encrypted %d values with key %s; %s holds the new key, %s.old the old one\n",
			n, box.Primary(), keyFile, keyFile)
		return nil
	}
	fmt.Fprintf(env.Stdout, "re-encrypted %d values with key %s; start hookd with HOOKD_ENCRYPTION_KEY set to the new key\n",
		n, box.Primary())
	return nil
}

// reseal re-encrypts with the current key what previous keys sealed,
// loading the keys as hookd serve does (server.OpenBox).
func (c *rotateKeyCmd) reseal(env *Env, path, pgURL string) error {
	if c.NewKey != "" {
		return errors.New("--reseal re-encrypts with the current key: give the new key as HOOKD_ENCRYPTION_KEY " +
			"(or in <data>/encryption.key), not --new-key")
	}
	box, _, err := server.OpenBox(server.Keys{DataDir: c.Data, Current: c.OldKey, Old: c.Previous})
	if err != nil {
		return err
	}
	n, err := reseal(env.Ctx, path, pgURL, box)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "re-encrypted %d values with the current key %s; nothing needs the previous keys any more: "+
		"remove HOOKD_ENCRYPTION_KEY_OLD and <data>/encryption.key.old from every node\n", n, box.Primary())
	return nil
}

// reseal opens the store with box and re-encrypts every sealed value.
func reseal(ctx context.Context, path, pgURL string, box *secretbox.Box) (int, error) {
	log := slog.New(slog.DiscardHandler)
	if pgURL != "" {
		db, err := postgres.Open(ctx, postgres.Options{URL: pgURL, Sealer: box, Logger: log})
		if err != nil {
			return 0, err
		}
		defer db.Close()
		return db.Reseal(ctx)
	}
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("database: %w", err)
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: box, Logger: log})
	if err != nil {
		return 0, err
	}
	n, err := db.Reseal(ctx)
	return n, errors.Join(err, db.Close())
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := secretbox.ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func writeKeyFile(path string, k []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(secretbox.FormatKey(k) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
