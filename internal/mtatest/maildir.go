package mtatest

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// MaildirFiles returns the message files of a maildir (new/ and cur/),
// oldest first; none when it does not exist.
func MaildirFiles(dir string) []string {
	type file struct {
		path string
		mod  time.Time
	}
	var fs []file
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			fs = append(fs, file{filepath.Join(dir, sub, e.Name()), fi.ModTime()})
		}
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if !fs[i].mod.Equal(fs[j].mod) {
			return fs[i].mod.Before(fs[j].mod)
		}
		return fs[i].path < fs[j].path
	})
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.path
	}
	return out
}

var localPartRE = regexp.MustCompile(`^<?([^@<>]*)`)

func localPart(address string) string {
	m := localPartRE.FindStringSubmatch(address)
	lp, _, _ := strings.Cut(m[1], "+")
	return lp
}
