package articles

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// Parse parses one source by its name: .md and .markdown as Markdown with
// front matter, anything else as the post format. Source "-" (stdin) is
// Markdown when it starts with a "---" line.
func Parse(name string, src []byte, siteURL string) (*newsletter.Article, error) {
	if isMarkdownName(name) || (name == StdinName && bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")), " \t\r\n"), []byte("---"))) {
		return ParseMarkdown(name, src, siteURL)
	}
	p, err := ParsePost(name, src)
	if err != nil {
		return nil, err
	}
	return p.Article(name, siteURL), nil
}

// StdinName is how standard input is named in errors.
const StdinName = "<stdin>"

func isMarkdownName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".md" || ext == ".markdown"
}

func isFeedName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".rss" || ext == ".atom" || ext == ".xml"
}

// isArticleName says which files a directory walk takes; .xml files are
// taken only when named.
func isArticleName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return isMarkdownName(name) || ext == ".txt" || ext == ".rss" || ext == ".atom"
}

// Loader reads article sources.
type Loader struct {
	SiteURL string       // articles without a URL get SiteURL/slug
	Stdin   io.Reader    // read for the source "-"
	HTTP    *http.Client // fetches feed URLs; nil means a client with a 30 s timeout
	MaxSize int64        // the largest article file or feed item, in bytes; 0 means DefaultMaxSize
}

// Load reads every source named in args — files, directories (recursively:
// .txt, .md, .markdown, .rss and .atom files), RSS or Atom feeds by URL or
// file, and "-" for stdin — and parses them all. It returns the articles of
// the valid sources and one error for each invalid one, so a caller can
// report every problem before storing anything. Two sources giving the
// same article (the same Key) are an error too; the same title is not, since
// the store makes slugs unique.
func (l *Loader) Load(ctx context.Context, args []string) ([]*newsletter.Article, []error) {
	var out []*newsletter.Article
	var errs []error
	byKey := map[string]string{}
	keep := func(name string, a *newsletter.Article) {
		if prev, ok := byKey[a.Key]; ok {
			errs = append(errs, errorf(name, 0, "%q is the same article as one from %s (%s); add only one of them", clip(a.Title, 40), prev, a.Key))
			return
		}
		byKey[a.Key] = name
		out = append(out, a)
	}
	maxSize := l.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	add := func(name string, src []byte) {
		if isFeedName(name) || strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
			arts, ferrs := ParseFeedLimit(name, src, l.SiteURL, maxSize)
			errs = append(errs, ferrs...)
			for _, a := range arts {
				keep(name, a)
			}
			return
		}
		if int64(len(src)) > maxSize {
			errs = append(errs, errorf(name, 0, "the file is larger than %s (%s); raise [articles] max_size to take it", FormatSize(maxSize), FormatSize(int64(len(src)))))
			return
		}
		a, err := Parse(name, src, l.SiteURL)
		if err != nil {
			errs = append(errs, err)
			return
		}
		keep(name, a)
	}
	client := l.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	for _, arg := range args {
		switch {
		case arg == "-":
			if l.Stdin == nil {
				errs = append(errs, errorf(StdinName, 0, "no standard input"))
				continue
			}
			src, err := io.ReadAll(io.LimitReader(l.Stdin, max(maxSize, maxFeed)+1))
			if err != nil {
				errs = append(errs, errorf(StdinName, 0, "%w", err))
				continue
			}
			add(StdinName, src)
		case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
			src, err := FetchFeed(ctx, client, arg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			add(arg, src)
		default:
			files, err := expand(arg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					errs = append(errs, errorf(f, 0, "%w", newsletter.PathCause(err)))
					continue
				}
				add(f, src)
			}
		}
	}
	return out, errs
}

// expand returns arg itself when it is a file, or the article files below it
// in name order when it is a directory.
func expand(arg string) ([]string, error) {
	fi, err := os.Stat(arg)
	if err != nil {
		return nil, errorf(arg, 0, "%w", newsletter.PathCause(err))
	}
	if !fi.IsDir() {
		if !isArticleName(arg) && !isFeedName(arg) {
			return nil, errorf(arg, 0, "not an article file: use .txt (post format), .md or .markdown, or an .rss, .atom or .xml feed")
		}
		return []string{arg}, nil
	}
	var files []string
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != arg && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && isArticleName(p) && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, errorf(arg, 0, "%w", newsletter.PathCause(err))
	}
	if len(files) == 0 {
		return nil, errorf(arg, 0, "directory has no .txt, .md, .markdown, .rss or .atom files")
	}
	sort.Strings(files)
	return files, nil
}
