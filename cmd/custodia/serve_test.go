package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/store/storetest"
)

// lockedBuffer is an io.Writer safe for the server goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

var listenRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// startServe runs "custodia serve" in-process and returns its URL, its
// outputs, and a function that stops it and returns the exit code.
func startServe(t *testing.T, args ...string) (url string, stdout, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	env := &Env{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Getenv: func(k string) string {
		if k == "CUSTODIA_SHUTDOWN_TIMEOUT" {
			return "20s"
		}
		return ""
	}}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- run(ctx, env, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited with %d before listening:\n%s\n%s", c, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start listening:\n%s\n%s", stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	var rc int
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case rc = <-code:
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop within 30s")
			}
		})
		return rc
	}
	t.Cleanup(func() { stop() })
	return url, stdout, stderr, stop
}

func TestServeFirstRunDemoAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	url, stdout, stderr, stop := startServe(t, "--data-dir", dir, "--demo")

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/login": 200, "/api/v1/openapi.json": 200, "/api/v1/people": 401} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
		if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("GET %s lacks security headers or request id: %v", path, resp.Header)
		}
	}
	out := stdout.String()
	pw := regexp.MustCompile(`(?m)^\s{6}(\S{12,})\s*$`).FindStringSubmatch(out)
	if !strings.Contains(out, "Demo organization seeded") || pw == nil {
		t.Fatalf("first --demo start did not announce the seed and a one-time password:\n%s", out)
	}
	if strings.Contains(stderr.String(), pw[1]) {
		t.Error("the one-time password appears in the log")
	}
	if !strings.Contains(stderr.String(), `"msg":"request"`) || !strings.Contains(stderr.String(), `"route":"GET /healthz"`) {
		t.Errorf("no JSON request log lines:\n%.2000s", stderr.String())
	}

	// A request in flight when shutdown begins completes. The body of this
	// sign-in form arrives in two parts, the second after SIGTERM.
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "username=nobody&password=wrong-password"
	_, err = io.WriteString(conn, "POST /login HTTP/1.1\r\nHost: "+strings.TrimPrefix(url, "http://")+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nSec-Fetch-Site: same-origin\r\nContent-Length: "+
		itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body[:10])
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	stopped := make(chan int, 1)
	go func() { stopped <- stop() }()
	// Wait until the listener is closed: shutdown has begun.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if i > 200 {
			t.Fatal("listener still open 10s after shutdown began")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("finishing the in-flight request: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 ") {
		t.Fatalf("in-flight request got %q, %v; want a complete answer", status, err)
	}
	if strings.HasPrefix(status, "HTTP/1.1 5") {
		t.Errorf("in-flight request answered %q", status)
	}
	if rc := <-stopped; rc != 0 {
		t.Errorf("serve exit code = %d, want 0; stderr:\n%s", rc, stderr)
	}

	// A second start on the same data directory seeds nothing and prints no password.
	_, stdout2, _, stop2 := startServe(t, "--data-dir", dir, "--demo")
	if rc := stop2(); rc != 0 {
		t.Errorf("second serve exit code = %d", rc)
	}
	if s := stdout2.String(); strings.Contains(s, "one-time password") || strings.Contains(s, "Demo organization seeded") {
		t.Errorf("second start announced again:\n%s", s)
	}
}

func TestServeFlags(t *testing.T) {
	env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &lockedBuffer{}, Getenv: func(string) string { return "" }}
	for _, args := range [][]string{
		{"serve", "--tls-cert", "x.pem"},
		{"serve", "--log-format", "xml"},
		{"serve", "--log-level", "loud"},
		{"serve", "--trusted-proxies", "not-an-ip"},
		{"serve", "extra"},
	} {
		if code := run(context.Background(), env, args); code != 2 {
			t.Errorf("custodia %v = exit %d, want 2", args, code)
		}
	}
	help := &lockedBuffer{}
	env.Stderr = help
	if code := run(context.Background(), env, []string{"serve", "--help"}); code != 0 || !strings.Contains(help.String(), "-trusted-proxies") {
		t.Errorf("serve --help = %d:\n%s", code, help)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestServePostgres(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	url, stdout, _, stop := startServe(t, "--data-dir", t.TempDir(), "--database", dbURL)
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"database":"ok"`) {
		t.Errorf("GET /readyz on PostgreSQL = %d %s", resp.StatusCode, b)
	}
	if !strings.Contains(stdout.String(), "one-time password") {
		t.Errorf("first start on PostgreSQL printed no one-time password:\n%s", stdout)
	}
	if rc := stop(); rc != 0 {
		t.Errorf("exit code %d", rc)
	}
}
