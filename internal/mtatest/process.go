package mtatest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stop ends the master process and its session, and waits until they are
// gone.
func (p *Postfix) stop(tb testing.TB) {
	if p.stopped {
		return
	}
	p.stopped = true
	b, err := os.ReadFile(filepath.Join(p.QueueDir, "pid", "master.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	if !p.ownsPid(pid) {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM) // master terminates its children
	if !waitGone(pid, 5*time.Second) {
		tb.Logf("postfix master %d ignored SIGTERM; killing its process group", pid)
	}
	// The master leads its own session and process group: end any child
	// left behind.
	syscall.Kill(-pid, syscall.SIGKILL)
	waitGone(pid, 2*time.Second)
	for _, c := range sessionMembers(pid) {
		syscall.Kill(c, syscall.SIGKILL)
		waitGone(c, 2*time.Second)
	}
}

// ownsPid tells whether pid is this instance's master: a Postfix master
// (which works in its queue directory), not a process that got a recycled
// pid.
func (p *Postfix) ownsPid(pid int) bool {
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil || cwd != p.QueueDir {
		return false
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return filepath.Base(exe) == "master"
}

// waitGone waits until process pid no longer exists or is a zombie.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if !alive(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// sessionMembers returns the live processes in session sid.
func sessionMembers(sid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 3 && f[3] == strconv.Itoa(sid) && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// mailUser is the uid and gid that own the maildirs: nobody's, since
// neither Postfix's pipe(8) nor Dovecot deliver or read mail as root.
func mailUser(tb testing.TB) (string, int, int) {
	tb.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		tb.Fatalf("no user nobody to own the maildirs: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return u.Username, uid, gid
}

// openPath makes dir and its parent (the test's own temporary directory,
// created 0700) searchable by the unprivileged users the daemons switch to.
func openPath(tb testing.TB, dir string) {
	tb.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// greeting connects to addr and reads the server's first line, which must
// start with prefix ("220" for SMTP, "* OK" for IMAP).
func greeting(addr, prefix string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, prefix) {
		return fmt.Errorf("greeting %q: %v", line, err)
	}
	return nil
}
