package mailer_test

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
)

// TestTransport_TLSModes: what each TLS mode does with a relay whose
// certificate is self-signed, and that a password is never sent in clear
// unless tls=none says so.
func TestTransport_TLSModes(t *testing.T) {
	serverTLS, clientTLS := smtptest.TLSPair(t)
	open := func(t *testing.T, url string, opts ...mailer.SMTPOption) error {
		tr, err := mailer.ParseTransport(url, "", opts...)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tr.Open(context.Background())
		if err == nil {
			c.Close()
		}
		return err
	}
	withTLS := smtptest.WithTLS(serverTLS, false)
	t.Run("StartTLSVerifies", func(t *testing.T) {
		srv := smtptest.Start(t, withTLS)
		if err := open(t, "smtp://"+srv.Addr); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("err = %v, want a certificate error", err)
		}
	})
	t.Run("CAFileTrusts", func(t *testing.T) {
		srv := smtptest.Start(t, withTLS)
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		var pemData []byte
		for _, c := range serverTLS.Certificates[0].Certificate {
			pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
		}
		os.WriteFile(caFile, pemData, 0o644)
		conf, err := mailer.LoadCA(caFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := open(t, "smtp://"+srv.Addr, mailer.WithTLSConfig(conf)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrCAFileWithoutCertificate", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(bad, []byte("not a certificate"), 0o644)
		if _, err := mailer.LoadCA(bad); err == nil || !strings.Contains(err.Error(), "transport.ca_file") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("OpportunisticDoesNotVerify", func(t *testing.T) {
		srv := smtptest.Start(t, withTLS, smtptest.WithAuth("news", "pw"))
		if err := open(t, "smtp://news:pw@"+srv.Addr+"?tls=opportunistic"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("InsecureDoesNotVerify", func(t *testing.T) {
		srv := smtptest.Start(t, withTLS)
		if err := open(t, "smtp://"+srv.Addr+"?tls=insecure"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("InsecureStillRequiresTLS", func(t *testing.T) {
		srv := smtptest.Start(t)
		if err := open(t, "smtp://"+srv.Addr+"?tls=insecure"); err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("NoPasswordInClearWhenOpportunistic", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth("news", "pw"))
		err := open(t, "smtp://news:pw@"+srv.Addr+"?tls=opportunistic")
		if err == nil || !strings.Contains(err.Error(), "not sent in clear") {
			t.Fatalf("err = %v, want a refusal to send the password in clear", err)
		}
	})
	t.Run("PasswordInClearOnlyWithNone", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth("news", "pw"))
		if err := open(t, "smtp://news:pw@"+srv.Addr+"?tls=none"); err != nil {
			t.Fatal(err)
		}
	})
	_ = clientTLS
}

// TestFileTransport_NamesDoNotCollide: addresses that once mapped to one
// file name (a/b@ and a_b@) get a file each, and an existing file is never
// overwritten.
func TestFileTransport_NamesDoNotCollide(t *testing.T) {
	f := newFixture(t, 1)
	dir := t.TempDir()
	tr := &mailer.FileTransport{Dir: dir}
	send := func(to string, id int64) error {
		m, err := f.builder.Build(&mailer.Message{Campaign: "1", ToEmail: to, Subject: "s", Text: "t", List: "newsletter", UnsubscribeURL: "https://x.example/u"})
		if err != nil {
			t.Fatal(err)
		}
		m.DeliveryID = id
		return tr.Send(context.Background(), m)
	}
	if err := send("a/b@example.com", 1); err != nil {
		t.Fatal(err)
	}
	if err := send("a_b@example.com", 2); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "1", "*.eml"))
	if len(files) != 2 {
		t.Fatalf("files %v, want two", files)
	}
	if err := send("a_b@example.com", 2); err == nil {
		t.Fatal("a second message for delivery 2 overwrote the first")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "1", ".tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
