package secretkey

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// LoadOrCreateFile returns the key kept in the file at path, creating the
// file (readable by its owner only) with a new key when there is none. Of
// several processes starting together, one creates it and the others read
// what it wrote.
func LoadOrCreateFile(path string) (Key, error) {
	k, err := readFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	k, err = createFile(path)
	if errors.Is(err, fs.ErrExist) {
		return readFile(path)
	}
	return k, err
}

// readFile reads a key file. An empty file is re-read for a moment, since a
// process that has just created it may still be writing.
func readFile(path string) (Key, error) {
	var data []byte
	var err error
	for range 20 {
		data, err = os.ReadFile(path)
		if err != nil || len(bytes.TrimSpace(data)) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, withoutPath(err))
	}
	k, err := Parse(string(data))
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// createFile writes a new key to path, which must not exist yet: of two
// processes racing to create it, exactly one succeeds.
func createFile(path string) (Key, error) {
	k, err := Generate()
	if err != nil {
		return Key{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, withoutPath(err))
	}
	_, werr := f.WriteString(k.String() + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		// Leave no half-written key behind to be read as malformed later.
		os.Remove(path)
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// withoutPath drops the path from an *fs.PathError, so a message that
// names the file already does not name it twice.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
