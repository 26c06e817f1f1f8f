package main

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdFeedServer serves a script's files over HTTP on 127.0.0.1, as a feed's
// site would:
//
//	feedserver start DIR [FILE...]
//
// serves DIR, and writes its address for the literal FEEDSERVER in each
// FILE (a config naming the feed's URL). Each file is sent with an ETag of
// its content, and a request whose If-None-Match carries it gets 304. Each
// request is logged in $WORK/feedserver.log as "STATUS PATH USER-AGENT", so
// a script can copy a new week's feed into DIR and grep the log.
func cmdFeedServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[0] != "start" {
		ts.Fatalf("usage: feedserver start DIR [FILE...]")
	}
	dir := ts.MkAbs(args[1])
	logPath := ts.MkAbs("feedserver.log")
	var mu sync.Mutex
	logf := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		defer f.Close()
		fmt.Fprintf(f, format+"\n", a...)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+r.URL.Path))))
		if err != nil {
			logf("404 %s %s", r.URL.Path, r.UserAgent())
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256(body))
		if r.Header.Get("If-None-Match") == etag {
			logf("304 %s %s", r.URL.Path, r.UserAgent())
			w.WriteHeader(http.StatusNotModified)
			return
		}
		logf("200 %s %s", r.URL.Path, r.UserAgent())
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("feedserver: %v", err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	addr := "http://" + ln.Addr().String()
	for _, name := range args[2:] {
		p := ts.MkAbs(name)
		b, err := os.ReadFile(p)
		if err != nil {
			ts.Fatalf("feedserver: %v", err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "FEEDSERVER", addr)), 0o644); err != nil {
			ts.Fatalf("feedserver: %v", err)
		}
	}
}
