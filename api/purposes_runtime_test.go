package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// withPurposes gives s the consent model and purpose catalog of package
// privacy over its store, seeded with flag.
func withPurposes(t *testing.T, s *Server, flag string) {
	t.Helper()
	st := s.store.(*sqlite.DB)
	list, err := privacy.SeedPurposes(context.Background(), st, flag, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := privacy.NewPurposeConfig(list, false)
	if err != nil {
		t.Fatal(err)
	}
	obs := privacy.NewObserver(cfg, st)
	s.opts.Consent = privacy.NewService(obs, nil, nil, nil)
	s.opts.Purposes = privacy.NewCatalog(st, obs, false, nil)
}

// TestPurposesAPI: purposes are listed with what they are, added and
// removed at runtime by the roles that may, and checked against the
// current list wherever they are named.
func TestPurposesAPI(t *testing.T) {
	s := newRoleServer(t)
	withPurposes(t, s, "")
	dpo := makeToken(t, s, "dpo", "privacy", false)
	marketer := makeToken(t, s, "mk", "marketer", false)
	viewer := makeToken(t, s, "view", "viewer", false)

	w := call(t, s, viewer, "GET", "/api/v1/privacy/purposes", "")
	var list struct{ Purposes []purposeView }
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list.Purposes) != 6 {
		t.Fatalf("GET purposes as viewer = %d %s, want the six defaults", w.Code, w.Body)
	}
	byName := map[string]purposeView{}
	for _, p := range list.Purposes {
		byName[p.Name] = p
	}
	if p := byName["sale_sharing"]; !p.BuiltIn || !strings.Contains(strings.Join(p.Signals, ","), "gpc") || p.UsedBy.Audiences == nil {
		t.Errorf("sale_sharing = %+v, want built in, decided by GPC, used_by lists present", p)
	}
	if p := byName["necessary"]; !p.Default {
		t.Errorf("necessary = %+v, want granted by default", p)
	}
	if err := s.checkPurposes(context.Background(), "destination", []string{"support_chat"}); mosaic.ErrorCode(err) != mosaic.EINVALID {
		t.Errorf("checkPurposes(support_chat) before it is added = %v, want EINVALID", err)
	}

	tests := []struct {
		name, bearer, method, path, body string
		status                           int
	}{
		{"marketer may not add", marketer, "POST", "/api/v1/privacy/purposes", `{"name":"support_chat"}`, 403},
		{"viewer may not remove", viewer, "DELETE", "/api/v1/privacy/purposes/analytics", "", 403},
		{"privacy adds", dpo, "POST", "/api/v1/privacy/purposes", `{"name":"support_chat","description":"Chat with support."}`, 201},
		{"twice", dpo, "POST", "/api/v1/privacy/purposes", `{"name":"support_chat"}`, 409},
		{"bad name", dpo, "POST", "/api/v1/privacy/purposes", `{"name":"Support Chat"}`, 400},
		{"no name", dpo, "POST", "/api/v1/privacy/purposes", `{}`, 400},
		{"unknown field", dpo, "POST", "/api/v1/privacy/purposes", `{"name":"x","granted":true}`, 400},
		{"necessary never", token, "DELETE", "/api/v1/privacy/purposes/necessary", "", 409},
		{"unknown", dpo, "DELETE", "/api/v1/privacy/purposes/nope", "", 404},
		{"admin removes a built-in", token, "DELETE", "/api/v1/privacy/purposes/advertising", "", 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := call(t, s, tt.bearer, tt.method, tt.path, tt.body); w.Code != tt.status {
				t.Errorf("%s %s %s = %d %s, want %d", tt.method, tt.path, tt.body, w.Code, w.Body, tt.status)
			}
		})
	}
	if err := s.checkPurposes(context.Background(), "destination", []string{"support_chat"}); err != nil {
		t.Errorf("checkPurposes(support_chat) after it was added = %v", err)
	}
	err := s.checkConditionPurposes(context.Background(), json.RawMessage(`"consent advertising"`))
	if mosaic.ErrorCode(err) != mosaic.EINVALID || !strings.Contains(err.Error(), "support_chat") {
		t.Errorf("condition on a removed purpose = %v, want EINVALID listing the purposes", err)
	}
	w = call(t, s, viewer, "GET", "/api/v1/privacy/purposes", "")
	list.Purposes = nil
	_ = json.Unmarshal(w.Body.Bytes(), &list)
	var got []string
	for _, p := range list.Purposes {
		got = append(got, p.Name)
		if p.Name == "support_chat" && (p.BuiltIn || p.Description != "Chat with support." || p.Default) {
			t.Errorf("support_chat = %+v, want not built in, its description, not granted by default", p)
		}
	}
	if strings.Join(got, ",") != "necessary,analytics,personalisation,marketing,sale_sharing,support_chat" {
		t.Errorf("GET purposes after the changes = %v, want support_chat added last and advertising gone", got)
	}
	// A change made through another node is seen: the list is read anew.
	other := New(s.store, s.events, s.opts)
	withPurposes(t, other, "")
	if w := call(t, other, dpo, "DELETE", "/api/v1/privacy/purposes/support_chat", ""); w.Code != 204 {
		t.Fatalf("DELETE on the other node = %d %s", w.Code, w.Body)
	}
	if err := s.checkPurposes(context.Background(), "destination", []string{"support_chat"}); mosaic.ErrorCode(err) != mosaic.EINVALID {
		t.Errorf("checkPurposes(support_chat) after another node removed it = %v, want EINVALID", err)
	}
}
