package storetest

import (
	"context"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// tokens checks token storage: create, read, list, name conflicts among
// active tokens only, revoke.
func (s suite) tokens(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	a := &store.APIToken{ID: "t1", Name: "ann", Role: "marketer", PII: true, SecretHash: []byte{1, 2, 3}, CreatedAt: at(0)}
	if err := st.CreateToken(ctx, a); err != nil {
		t.Fatalf("CreateToken = %v", err)
	}
	if err := st.CreateToken(ctx, &store.APIToken{ID: "t2", Name: "ann", Role: "viewer", SecretHash: []byte{9}, CreatedAt: at(1)}); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
		t.Errorf("CreateToken(same name) = %v, want ECONFLICT", err)
	}
	if err := st.CreateToken(ctx, &store.APIToken{ID: "t3", Name: "x", Role: "viewer", CreatedAt: at(1)}); mosaic.ErrorCode(err) != mosaic.EINVALID {
		t.Errorf("CreateToken(no hash) = %v, want EINVALID", err)
	}
	got, err := st.Token(ctx, "t1")
	if err != nil || got.Name != "ann" || got.Role != "marketer" || !got.PII || string(got.SecretHash) != "\x01\x02\x03" || !got.CreatedAt.Equal(kept(at(0))) || got.RevokedAt != nil {
		t.Errorf("Token(t1) = %+v, %v", got, err)
	}
	if _, err := st.Token(ctx, "nope"); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("Token(nope) = %v, want ENOTFOUND", err)
	}
	if err := st.RevokeToken(ctx, "t1", at(5)); err != nil {
		t.Fatalf("RevokeToken = %v", err)
	}
	if err := st.RevokeToken(ctx, "t1", at(6)); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("RevokeToken twice = %v, want ENOTFOUND", err)
	}
	if got, err := st.Token(ctx, "t1"); err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(kept(at(5))) {
		t.Errorf("revoked Token(t1) = %+v, %v, want revoked at %v", got, err, kept(at(5)))
	}
	if err := st.CreateToken(ctx, &store.APIToken{ID: "t4", Name: "ann", Role: "viewer", SecretHash: []byte{9}, CreatedAt: at(7)}); err != nil {
		t.Errorf("CreateToken(name of a revoked token) = %v, want nil", err)
	}
	if list, err := st.Tokens(ctx); err != nil || len(list) != 1 || list[0].ID != "t4" {
		t.Errorf("Tokens = %v, %v, want only t4", list, err)
	}
}
