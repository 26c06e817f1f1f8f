// Package atomicfile writes files that a reader never sees half written.
package atomicfile

import (
	"io/fs"
	"os"
)

// Write writes data to a temporary file beside path and renames it into
// place.
func Write(path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
