package activate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestSignVectors(t *testing.T) {
	tests := []struct {
		name, secret, id string
		ts               int64
		body, want       string
	}{
		{"mosaic vector", "whsec_bW9zYWljLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODlhYmM=", "msg_2mosaicTestVector0001", 1735689600,
			`{"type":"profile.updated","timestamp":"2025-01-01T00:00:00Z","data":{"userId":"u_123","traits":{"email":"jane@example.com"}}}`,
			"v1,+1spkNkohuoiPn3Skbw3suvGYpokTxlPLZVoFnYcAzk="},
		{"old secret", "whsec_bW9zYWljLW9sZC1zZWNyZXQtYWJjZGVmZ2hpamtsbW4=", "msg_2mosaicTestVector0001", 1735689600,
			`{"type":"profile.updated","timestamp":"2025-01-01T00:00:00Z","data":{"userId":"u_123","traits":{"email":"jane@example.com"}}}`,
			"v1,izVYRgT1vM1zYrcfwwbxT45QrzYhTUXNvOdCObz2gOQ="},
		{"one space more", "whsec_bW9zYWljLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODlhYmM=", "msg_2mosaicTestVector0001", 1735689600,
			`{"type": "profile.updated","timestamp":"2025-01-01T00:00:00Z","data":{"userId":"u_123","traits":{"email":"jane@example.com"}}}`,
			"v1,HY2QUQVz/VOI3a0v8i4yy/Fnsq5IX9VGLGrSxggV7BU="},
		{"official vector", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
			`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := DecodeSecret(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			if got := Sign(key, tt.id, tt.ts, []byte(tt.body)); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
			h := http.Header{}
			h.Set("webhook-id", tt.id)
			h.Set("webhook-timestamp", fmt.Sprint(tt.ts))
			h.Set("webhook-signature", "v1,bm90IGl0 "+tt.want) // rotation: any entry may match
			if err := verify(tt.secret, h, []byte(tt.body)); err != nil {
				t.Errorf("independent verify = %v, want nil", err)
			}
		})
	}
}

func TestGuard(t *testing.T) {
	g := Guard{}
	allow := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	tests := []struct {
		addr              string
		refused, refAllow bool
	}{
		{"127.0.0.1", true, false},
		{"127.5.6.7", true, false},
		{"10.0.0.1", true, true},
		{"172.16.3.4", true, true},
		{"192.168.1.1", true, true},
		{"169.254.169.254", true, true}, // cloud metadata
		{"100.64.0.1", true, true},
		{"0.0.0.0", true, true},
		{"::1", true, true},
		{"fe80::1", true, true},
		{"fd12::1", true, false},
		{"::ffff:127.0.0.1", true, false}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", true, true},
		{"93.184.216.34", false, false},
		{"2606:4700::1111", false, false},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if err := g.Check(a); (err != nil) != tt.refused {
			t.Errorf("Check(%s) = %v, want refused %v", tt.addr, err, tt.refused)
		}
		if err := allow.Check(a); (err != nil) != tt.refAllow {
			t.Errorf("Check(%s) with allow-list = %v, want refused %v", tt.addr, err, tt.refAllow)
		}
	}
}

// TestGuardAfterResolution dials names that resolve to loopback: the guard
// sees the resolved address, so a public-looking name pointing inside
// (DNS rebinding) is refused too.
func TestGuardAfterResolution(t *testing.T) {
	rcv := newReceiver(t)
	_, port, _ := net.SplitHostPort(rcv.srv.Listener.Addr().String())
	for _, host := range []string{"localhost", "127.0.0.1", "[::ffff:127.0.0.1]"} {
		_, err := Guard{}.Client(1).Get("http://" + host + ":" + port + "/")
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("GET via %s = %v, want ErrForbiddenAddress", host, err)
		}
	}
	resp, err := loopbackClient().Get("http://localhost:" + port + "/")
	if err != nil {
		t.Fatalf("GET with loopback allowed = %v", err)
	}
	resp.Body.Close()
}

func TestRedirectNotFollowed(t *testing.T) {
	rcv := newReceiver(t)
	rcv.on("m", reply{code: 301})
	s := &webhookSender{url: rcv.srv.URL, key: []byte("k"), env: Env{HTTP: loopbackClient(), Now: time.Now}}
	err := s.Send(context.Background(), []Message{{ID: "m", Payload: []byte(`{}`)}})
	if se := asSendError(err); se.Code != 301 || !strings.Contains(se.Error(), "not followed") {
		t.Errorf("Send to a 301 = %v, want a failure that says the redirect was not followed", err)
	}
}

func TestSafeCell(t *testing.T) {
	tests := map[string]string{"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "plain": "plain", "": "", "a=b": "a=b"}
	for in, want := range tests {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHashIdentifier(t *testing.T) {
	tests := []struct{ kind, a, b string }{
		{"email", " Jane@Example.COM ", "jane@example.com"},
		{"phone", "+31 (6) 1234-5678", "+31612345678"},
	}
	for _, tt := range tests {
		if HashIdentifier(tt.kind, tt.a) != HashIdentifier(tt.kind, tt.b) {
			t.Errorf("HashIdentifier(%s, %q) differs from that of %q", tt.kind, tt.a, tt.b)
		}
	}
	// sha256("jane@example.com")
	if got := HashIdentifier("email", "jane@example.com"); got != "8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eeeb428407d43b52d" {
		t.Errorf("HashIdentifier(email) = %s", got)
	}
}

func TestParseSettings(t *testing.T) {
	spec := fullSpec(Webhook{})
	tests := []struct {
		name    string
		raw     map[string]any
		wantErr string
	}{
		{"ok", map[string]any{"url": "https://x.example/h", "batch_size": float64(10)}, ""},
		{"missing url", map[string]any{}, "needs the setting \"url\""},
		{"ftp", map[string]any{"url": "ftp://x.example"}, "http:// or https://"},
		{"unknown", map[string]any{"url": "https://x.example", "nope": 1}, "no setting \"nope\""},
		{"bad batch", map[string]any{"url": "https://x.example", "batch_size": float64(0)}, "from 1 to 10000"},
		{"bad duration", map[string]any{"url": "https://x.example", "timeout": "soon"}, "duration"},
		{"reserved header", map[string]any{"url": "https://x.example", "headers": map[string]any{"webhook-id": "x"}}, "cannot be overridden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSettings("webhook", spec, tt.raw)
			if tt.wantErr == "" {
				if err != nil || s.Duration("timeout").Seconds() != 15 {
					t.Errorf("ParseSettings = %v, %v; want defaults (timeout 15s)", s, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSettings error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
