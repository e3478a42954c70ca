package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// users checks users and their sessions.
func (s suite) users(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	ann := &store.User{ID: "u1", Name: "ann", Role: "privacy", PasswordHash: "$argon2id$x", CreatedAt: kept(at(0))}
	ann.UpdatedAt = ann.CreatedAt
	if err := st.CreateUser(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &store.User{ID: "u2", Name: "ann", Role: "viewer", PasswordHash: "h", CreatedAt: at(0)}); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
		t.Errorf("CreateUser(same name) = %v, want ECONFLICT", err)
	}
	bob := &store.User{ID: "u2", Name: "bob", Role: "viewer", PII: true, PasswordHash: "h2", CreatedAt: kept(at(time.Second))}
	bob.UpdatedAt = bob.CreatedAt
	if err := st.CreateUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if got, err := st.UserByName(ctx, "ann"); err != nil || !cmp.Equal(got, ann) {
		t.Errorf("UserByName = %+v, %v, want %+v", got, err, ann)
	}
	if got, err := st.UserByID(ctx, "u2"); err != nil || !cmp.Equal(got, bob) {
		t.Errorf("UserByID = %+v, %v, want %+v", got, err, bob)
	}
	if _, err := st.UserByName(ctx, "nobody"); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("UserByName(unknown) = %v, want ENOTFOUND", err)
	}
	ann.Role, ann.PasswordHash, ann.UpdatedAt = "admin", "$argon2id$y", kept(at(time.Minute))
	if err := st.UpdateUser(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if all, _ := st.Users(ctx); !cmp.Equal(all, []*store.User{ann, bob}) {
		t.Errorf("Users = %+v, want ann (updated), bob", all)
	}

	s1 := &store.Session{ID: "s1", UserID: "u1", SecretHash: []byte{1, 2}, CreatedAt: kept(at(0)), ExpiresAt: kept(at(time.Hour))}
	s2 := &store.Session{ID: "s2", UserID: "u1", SecretHash: []byte{3}, CreatedAt: kept(at(0)), ExpiresAt: kept(at(2 * time.Hour))}
	s3 := &store.Session{ID: "s3", UserID: "u2", SecretHash: []byte{4}, CreatedAt: kept(at(0)), ExpiresAt: kept(at(time.Minute))}
	for _, x := range []*store.Session{s1, s2, s3} {
		if err := st.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := st.Session(ctx, "s1"); err != nil || !cmp.Equal(got, s1) {
		t.Errorf("Session = %+v, %v, want %+v", got, err, s1)
	}
	if n, err := st.DeleteSessions(ctx, "u1", "s1", at(30*time.Minute)); n != 1 || err != nil {
		t.Errorf("DeleteSessions(one) = %d, %v, want 1", n, err)
	}
	if _, err := st.Session(ctx, "s3"); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("expired session s3 after DeleteSessions = %v, want ENOTFOUND (swept)", err)
	}
	if _, err := st.Session(ctx, "s2"); err != nil {
		t.Errorf("session s2 = %v, want kept", err)
	}
	if err := st.DeleteUser(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, "s2"); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("session of a deleted user = %v, want ENOTFOUND", err)
	}
	if err := st.DeleteUser(ctx, "ann"); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("DeleteUser twice = %v, want ENOTFOUND", err)
	}
}
