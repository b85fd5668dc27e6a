package cli

import (
	"fmt"
	"path/filepath"

	"github.com/hookd/hookd/sqlite"
)

// backupCmd is `hookd backup`: an online copy of the SQLite database.
type backupCmd struct {
	Data string `default:"./hookd-data" env:"HOOKD_DATA" help:"Data directory of the hookd to back up (it may be running)."`
	To   string `arg:"" help:"File to write the copy to; it must not exist. Keep encryption.key with it: secrets in the copy are encrypted with that key."`
}

func (c *backupCmd) Run(env *Env) error {
	src := filepath.Join(c.Data, "hookd.db")
	if err := sqlite.Backup(env.Ctx, src, c.To); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backed up %s to %s\n", src, c.To)
	return nil
}
