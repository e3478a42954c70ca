package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

const klantenMap = "user_id=Klantnummer,email=E-mail,firstName=Voornaam,lastName=Achternaam,phone=Telefoon,country=Land,birthday=Geboortedatum,notes=Opmerking"

// TestImportCSV imports a Windows-1252, semicolon-separated CSV export
// with Dutch column names through the CLI and the running server, checks
// the cleaned profiles' traits and the error report, then imports it again
// and checks that nothing new is stored.
func TestImportCSV(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		m := startMain(t, append(args, "--default-region", "NL")...)
		src := createSource(t, m, "crm")
		report := filepath.Join(t.TempDir(), "errors.csv")
		client := []string{"--server", m.URL(), "--admin-token", testToken}
		code, out, errOut := runCLI(t, append([]string{"import", "--source", "crm", "--map", klantenMap, "--key", "Klantnummer",
			"--save-mapping", "--errors", report, "testdata/import/klanten-cp1252.csv"}, client...)...)
		if code != 0 {
			t.Fatalf("import exit %d: %s %s", code, out, errOut)
		}
		if want := "9 rows, 6 stored, 3 failed"; !strings.Contains(out, want) || !strings.Contains(out, "windows-1252") || !strings.Contains(out, `delimiter ";"`) {
			t.Errorf("import printed %q, want %q, the encoding and the delimiter", out, want)
		}

		evs := allEvents(t, m, src.ID, 6)
		byUser := map[string]storedEvent{}
		for _, ev := range evs {
			if ev.Type != "identify" {
				t.Errorf("event %s is %s, want identify", ev.MessageID, ev.Type)
			}
			byUser[ev.UserID] = ev
		}
		if len(evs) != 6 {
			t.Fatalf("stored %d events, want 6: %v", len(evs), byUser)
		}
		for _, c := range []struct{ user, trait, want string }{
			{"K001", "email", "ada.lovelace@example.com"},
			{"K001", "phone", "+31612345678"},
			{"K001", "country", "NL"},
			{"K001", "birthday", "1990-05-17"},
			{"K002", "firstName", "Renée"},
			{"K002", "country", "BE"},
			{"K002", "phone", "+32470123456"},
			{"K002", "notes", "meerdere regels:\nbelt graag; \"s avonds\""},
			{"K003", "lastName", "de Vries"},
			{"K003", "phone", "+31201234567"},
			{"K003", "birthday", "1970-02-01"},
			{"K005", "email", "geen-email"}, // kept: not an address
			{"K005", "country", "DE"},
			{"K007", "lastName", "Müller"},
			{"K007", "country", "DE"},
			{"K008", "email", "mark@example.nl"},
			{"K008", "country", "FR"},
		} {
			if got, _ := byUser[c.user].Traits[c.trait].(string); got != c.want {
				t.Errorf("%s traits.%s = %q, want %q", c.user, c.trait, got, c.want)
			}
		}
		cleaning, _ := byUser["K001"].Context["cleaning"].([]any)
		if !strings.Contains(mustJSON(cleaning), `"original":" Ada.Lovelace@Example.COM "`) {
			t.Errorf("K001 context.cleaning = %s, want the original email kept", mustJSON(cleaning))
		}

		rows := readReport(t, report)
		var failed []string
		for _, r := range rows[1:] {
			failed = append(failed, r[0]+":"+r[3])
		}
		sort.Strings(failed) // reading errors are written at once, rejections after their batch
		if got, want := strings.Join(failed, ","), "4:invalid_row,6:missing_identity,9:invalid_row"; got != want {
			t.Errorf("error report rows = %s, want %s\n%v", got, want, rows)
		}
		defused := false
		for _, r := range rows {
			defused = defused || strings.HasPrefix(r[5], "'=1+2")
		}
		if !defused {
			t.Errorf("report = %v, want the row starting with = defused with a leading apostrophe", rows)
		}

		// Again, with the saved mapping: the same messageIds, so the dedupe
		// stage drops every row.
		code, out, errOut = runCLI(t, append([]string{"import", "--source", src.ID, "testdata/import/klanten-cp1252.csv"}, client...)...)
		if code != 0 || !strings.Contains(out, "6 stored, 3 failed") {
			t.Fatalf("re-import = %d %q %q", code, out, errOut)
		}
		waitStats(t, m, src.ID, func(s sourceStats) bool { return s.Duplicates == 6 })
		if evs := allEvents(t, m, src.ID, 6); len(evs) != 6 {
			t.Errorf("after re-import %d events, want still 6", len(evs))
		}
	})
}

type sourceStats struct {
	Stored     int64 `json:"stored"`
	Duplicates int64 `json:"duplicates"`
	Rejected   int64 `json:"rejected"`
}

// waitStats polls a source's counters until ok holds (the dedupe stage
// checkpoints them in the background).
func waitStats(t *testing.T, m *Main, sourceID string, ok func(sourceStats) bool) sourceStats {
	t.Helper()
	var s sourceStats
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		status, body := do(t, "GET", m.URL()+"/api/v1/sources/"+sourceID+"/stats", adminHeader(), "")
		if status != http.StatusOK {
			t.Fatalf("stats = %d %s", status, body)
		}
		s = sourceStats{}
		_ = json.Unmarshal(body, &s)
		if ok(s) {
			return s
		}
	}
	t.Fatalf("source stats = %+v, never as expected", s)
	return s
}

func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("error report is not CSV: %v", err)
	}
	return rows
}

// TestImportJSONLinesAPI uploads JSON Lines orders as a multipart form
// through the API, as track calls with revenue and timestamps.
func TestImportJSONLinesAPI(t *testing.T) {
	m := startMain(t)
	src := createSource(t, m, "shop")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"event": "Order Completed", "key": "order_id",
		"map": "user_id=klant,revenue=bedrag,timestamp=datum,order_id=order_id,currency=valuta"} {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "orders.jsonl")
	data, err := os.ReadFile("testdata/import/orders.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	h := adminHeader()
	h.Set("Content-Type", mw.FormDataContentType())
	status, resp := do(t, "POST", m.URL()+"/api/v1/sources/"+src.ID+"/imports", h, body.String())
	if status != http.StatusCreated {
		t.Fatalf("POST imports = %d %s", status, resp)
	}
	var job struct {
		ID                   string
		Format               string
		State                string
		Rows, Stored, Failed int
	}
	_ = json.Unmarshal(resp, &job)
	if job.Format != "jsonl" || job.State != "done" || job.Rows != 5 || job.Stored != 3 || job.Failed != 2 {
		t.Errorf("import = %s, want jsonl done 5 rows 3 stored 2 failed", resp)
	}
	evs := allEvents(t, m, src.ID, 3)
	revenue := map[string]float64{}
	for _, ev := range evs {
		if ev.Event != "Order Completed" {
			t.Errorf("event = %q, want Order Completed", ev.Event)
		}
		revenue[ev.Properties["order_id"].(string)] = ev.Properties["revenue"].(float64)
	}
	if want := map[string]float64{"O-1": 12.5, "O-2": 99.95, "O-4": 7}; mustJSON(revenue) != mustJSON(want) {
		t.Errorf("revenue = %v, want %v", revenue, want)
	}
	for _, ev := range evs {
		if ev.Properties["order_id"] == "O-1" && !ev.Timestamp.Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("O-1 timestamp = %v, want 2024-05-01 10:00 UTC", ev.Timestamp)
		}
	}
	status, rep := do(t, "GET", m.URL()+"/api/v1/imports/"+job.ID+"/errors", adminHeader(), "")
	if status != http.StatusOK || !regexp.MustCompile(`(?m)^3,3,,invalid_row,`).Match(rep) ||
		!regexp.MustCompile(`(?m)^4,4,datum,invalid_value,"""gisteren"" is not a date`).Match(rep) {
		t.Errorf("error report = %d\n%s", status, rep)
	}
	status, list := do(t, "GET", m.URL()+"/api/v1/sources/shop/imports", adminHeader(), "")
	if status != http.StatusOK || !strings.Contains(string(list), job.ID) {
		t.Errorf("GET sources/shop/imports = %d %s, want the import", status, list)
	}
}

// TestImportBOMAndBadRequests covers a UTF-8 file with a BOM and the
// errors of a request that cannot run.
func TestImportBOMAndBadRequests(t *testing.T) {
	m := startMain(t)
	createSource(t, m, "app")
	client := []string{"--server", m.URL(), "--admin-token", testToken}
	code, out, errOut := runCLI(t, append([]string{"import", "--source", "app", "--map", "user_id=id,email=email,plan=plan", "testdata/import/bom-utf8.csv"}, client...)...)
	if code != 0 || !strings.Contains(out, "2 rows, 2 stored, 0 failed") || !strings.Contains(out, "utf-8") {
		t.Errorf("import with BOM = %d %q %q", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--map", "user_id=nope"}, `column "nope"`},
		{[]string{"--map", "email=email"}, "user_id or anonymous_id"},
		{[]string{"--map", "user_id"}, "not field=column"},
		{[]string{"--source", "missing", "--map", "user_id=id"}, "not_found"},
	} {
		args := append([]string{"import", "--source", "app"}, c.args...)
		code, _, errOut := runCLI(t, append(append(args, client...), "testdata/import/bom-utf8.csv")...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("import %v = %d %q, want an error with %q", c.args, code, errOut, c.want)
		}
	}
}
