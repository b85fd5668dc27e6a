package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookd/hookd/secretbox"
)

// KeyFile and OldKeyFile are the names, in the data directory, of the file
// holding the current encryption key and of the file holding a previous
// one (left by `hookd rotate-encryption-key`, or put there by hand during a
// rolling rotation).
const (
	KeyFile    = "encryption.key"
	OldKeyFile = "encryption.key.old"
)

// Keys says where a node's encryption keys come from.
type Keys struct {
	// DataDir holds KeyFile and OldKeyFile.
	DataDir string
	// Current is the base64 key that seals (HOOKD_ENCRYPTION_KEY); when
	// empty, the key in <DataDir>/encryption.key.
	Current string
	// Old lists, comma-separated, base64 keys that only open: values sealed
	// with them still read, and are re-sealed with the current key by
	// `hookd rotate-encryption-key --reseal` (HOOKD_ENCRYPTION_KEY_OLD).
	Old string
	// Create makes <DataDir>/encryption.key with a new key when Current is
	// empty and the file does not exist.
	Create bool
}

// OpenBox returns a secretbox that seals with the current key and opens
// with it, with every key of k.Old and with the key in
// <DataDir>/encryption.key.old when that file exists. created reports that
// the key file was made. It returns an error naming the variable or file
// of a key that is not valid, or when the key file is missing (and not
// k.Create) or cannot be read.
func OpenBox(k Keys) (box *secretbox.Box, created bool, err error) {
	current, created, err := currentKey(k)
	if err != nil {
		return nil, false, err
	}
	old, err := oldKeys(k)
	if err != nil {
		return nil, false, err
	}
	box, err = secretbox.New(current, old...)
	return box, created, err
}

func currentKey(k Keys) ([]byte, bool, error) {
	if k.Current != "" {
		key, err := secretbox.ParseKey(k.Current)
		if err != nil {
			return nil, false, fmt.Errorf("HOOKD_ENCRYPTION_KEY: %w", err)
		}
		return key, false, nil
	}
	path := filepath.Join(k.DataDir, KeyFile)
	if k.Create {
		return secretbox.LoadOrCreateKeyFile(path)
	}
	key, err := readKey(path)
	return key, false, err
}

func oldKeys(k Keys) ([][]byte, error) {
	var keys [][]byte
	for i, text := range strings.Split(k.Old, ",") {
		if strings.TrimSpace(text) == "" {
			continue
		}
		key, err := secretbox.ParseKey(text)
		if err != nil {
			return nil, fmt.Errorf("HOOKD_ENCRYPTION_KEY_OLD (key %d): %w", i+1, err)
		}
		keys = append(keys, key)
	}
	key, err := readKey(filepath.Join(k.DataDir, OldKeyFile))
	switch {
	case err == nil:
		keys = append(keys, key)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	return keys, nil
}

// readKey returns the key in the file at path; an error wrapping
// os.ErrNotExist when there is no such file.
func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := secretbox.ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}
