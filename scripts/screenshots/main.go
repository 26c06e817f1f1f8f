// Command screenshots photographs what readers see — the digest, an
// article mail, the confirmation mail and every subscriber and archive page
// — at a desktop's and a phone's width, light and dark, with headless
// Chromium, into docs/screenshots. Run it after changing a template:
//
//	go run ./scripts/screenshots [-out docs/screenshots] [-chromium PATH]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/example/newsletter/internal/showcase"
)

func main() {
	out := flag.String("out", "docs/screenshots", "the `directory` to write the PNG files to")
	chromium := flag.String("chromium", "", "the Chromium `binary` (default: chromium on the PATH)")
	flag.Parse()
	if err := run(*out, *chromium); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(out, exe string) error {
	if exe == "" {
		var err error
		if exe, err = exec.LookPath("chromium"); err != nil {
			return fmt.Errorf("chromium is not installed (or give -chromium PATH): %w", err)
		}
	}
	tmp, err := os.MkdirTemp("", "newsletter-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc, err := showcase.New(ctx, tmp, "examples/articles")
	if err != nil {
		return err
	}
	defer sc.Close()
	bctx, stop := showcase.Browser(ctx, exe, filepath.Join(tmp, "chromium"))
	defer stop()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, p := range sc.Pages {
		for _, v := range []struct {
			name  string
			width int64
		}{{"desktop", 1024}, {"phone", 375}} {
			for _, dark := range []bool{false, true} {
				scheme := "light"
				if dark {
					scheme = "dark"
				}
				if err := showcase.Open(bctx, p, v.width, dark); err != nil {
					return err
				}
				png, err := showcase.Screenshot(bctx)
				if err != nil {
					return fmt.Errorf("%s: %w", p.Name, err)
				}
				name := filepath.Join(out, fmt.Sprintf("%s-%s-%s.png", p.Name, v.name, scheme))
				if err := os.WriteFile(name, png, 0o644); err != nil {
					return err
				}
				fmt.Println(name)
			}
		}
	}
	return nil
}
