package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type auditEntryJSON struct {
	ID     int64  `json:"id"`
	Actor  string `json:"actor"`
	Role   string `json:"role"`
	Action string `json:"action"`
	Object string `json:"object"`
	From   string `json:"from"`
	Status int    `json:"status"`
	Result string `json:"result"`
	Hash   string `json:"hash"`
}

func auditEntries(t *testing.T, m *Main, query string) []auditEntryJSON {
	t.Helper()
	status, body := do(t, "GET", m.URL()+"/api/v1/audit"+query, adminHeader(), "")
	var page struct {
		Entries []auditEntryJSON `json:"entries"`
	}
	if err := json.Unmarshal(body, &page); status != 200 || err != nil {
		t.Fatalf("GET /api/v1/audit%s = %d %s", query, status, body)
	}
	return page.Entries
}

// TestAuditLogEndToEnd: admin actions and reads of a person's data are
// recorded with who, what, which object, from where and the result; the
// person appears only as a pseudonym; the log filters and exports; and
// 'mosaic audit verify' passes, then fails once one stored byte changes.
func TestAuditLogEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		dir := t.TempDir()
		m := startMain(t, append([]string{"--data", dir}, serveArgs...)...)
		src := createSource(t, m, "web")
		postConsentBatch(t, m, src.WriteKey, nil, `[{"type":"identify","userId":"u-7","traits":{"email":"ann@shop.nl"}}]`)
		getProfile(t, m, "email:ann@shop.nl", func(profileJSON) bool { return true })
		if status, body := do(t, "PUT", m.URL()+"/api/v1/profiles/email:ann@shop.nl/consent", adminHeader(), `{"purposes":{"marketing":true}}`); status != 200 {
			t.Fatalf("PUT consent = %d %s", status, body)
		}
		if status, _ := do(t, "GET", m.URL()+"/api/v1/profiles/email:ann@shop.nl", nil, ""); status != 401 {
			t.Fatalf("unauthenticated read = %d, want 401", status)
		}
		do(t, "GET", m.URL()+"/api/v1/sources", adminHeader(), "") // not about people: not recorded

		all := auditEntries(t, m, "")
		raw, _ := json.Marshal(all)
		if bytes.Contains(raw, []byte("ann@shop.nl")) {
			t.Errorf("the audit log holds the email in clear: %s", raw)
		}
		var actions []string
		for _, e := range all {
			actions = append(actions, e.Action+" "+e.Result)
			if e.From != "127.0.0.1" || e.Hash == "" {
				t.Errorf("entry %+v: want from 127.0.0.1 and a hash", e)
			}
		}
		for _, want := range []string{"POST /api/v1/sources ok", "GET /api/v1/profiles/{ref} ok", "PUT /api/v1/profiles/{ref}/consent ok"} {
			if !strings.Contains(strings.Join(actions, "\n"), want) {
				t.Errorf("audit actions %q lack %q", actions, want)
			}
		}
		if strings.Contains(strings.Join(actions, "\n"), "GET /api/v1/sources ok") {
			t.Errorf("listing sources was recorded: %q", actions)
		}
		last := all[len(all)-1]
		if last.Result != "denied" || last.Actor != "unauthenticated" || last.Status != 401 {
			t.Errorf("last entry = %+v, want the denied unauthenticated read", last)
		}

		person := auditEntries(t, m, "?person=email:ANN@shop.nl")
		for _, e := range person {
			if !strings.HasPrefix(e.Object, "/api/v1/profiles/email:h_") {
				t.Errorf("person filter returned %+v", e)
			}
		}
		if len(person) < 3 {
			t.Errorf("person filter = %d entries, want the reads, the change and the denied read", len(person))
		}
		if got := auditEntries(t, m, "?actor=admin&action=PUT+/api/v1/profiles/{ref}/consent"); len(got) != 1 {
			t.Errorf("actor+action filter = %+v, want the one consent change", got)
		}
		status, body := do(t, "GET", m.URL()+"/api/v1/audit?format=jsonl", adminHeader(), "")
		lines := 0
		for sc := bufio.NewScanner(bytes.NewReader(body)); sc.Scan(); lines++ {
			var e auditEntryJSON
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ID != int64(lines+1) {
				t.Fatalf("JSONL line %d = %q (%v)", lines+1, sc.Text(), err)
			}
		}
		if status != 200 || lines < len(all) {
			t.Errorf("JSONL export = %d with %d lines, want at least %d", status, lines, len(all))
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Fatal(err)
		}
		verify := append([]string{"audit", "verify", "--data", dir}, serveArgs...)
		if code, out, errOut := runCLI(t, verify...); code != 0 || !strings.Contains(out, "intact") {
			t.Fatalf("audit verify = %d %q %q, want intact", code, out, errOut)
		}
		flipAuditByte(t, dir, serveArgs, last.Object)
		code, out, errOut := runCLI(t, verify...)
		if code != 1 || !strings.Contains(errOut, "NOT intact") {
			t.Errorf("audit verify after a flipped byte = %d %q %q, want exit 1 naming the entry", code, out, errOut)
		}
	})
}

// flipAuditByte changes one byte of a stored audit entry: in the SQLite
// file itself, or with SQL in PostgreSQL.
func flipAuditByte(t *testing.T, dir string, serveArgs []string, object string) {
	t.Helper()
	if len(serveArgs) > 0 { // PostgreSQL: serveArgs are --postgres URL
		url, schema, _ := strings.Cut(serveArgs[1], "search_path=")
		sql := "SET search_path TO " + schema + "; UPDATE audit_log SET data = set_byte(data, 10, get_byte(data, 10) # 1) WHERE id = 2"
		if out, err := exec.Command("psql", strings.TrimRight(url, "?&"), "-v", "ON_ERROR_STOP=1", "-qc", sql).CombinedOutput(); err != nil {
			t.Fatalf("psql: %v %s", err, out)
		}
		return
	}
	path := filepath.Join(dir, "mosaic.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"result":"ok"`))
	if i < 0 {
		t.Fatalf("no audit entry found in %s", path)
	}
	b[i+11] ^= 0x01 // "ok" becomes "nk"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
