package clean

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean/mmdbtest"
)

var (
	agentsOnce sync.Once
	agents     *UserAgents
)

// testAgents shares one parser between the tests: compiling the regexes
// takes a while.
func testAgents(t testing.TB) *UserAgents {
	t.Helper()
	agentsOnce.Do(func() {
		var err error
		if agents, err = NewUserAgents(0); err != nil {
			t.Fatal(err)
		}
	})
	return agents
}

func TestParseUserAgent(t *testing.T) {
	ua := testAgents(t)
	for _, c := range []struct {
		name, in string
		want     Agent
	}{
		{"chrome on windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			Agent{Browser: "Chrome", BrowserVersion: "124.0.0", OS: "Windows", OSVersion: "10", DeviceType: DeviceDesktop}},
		{"safari on a mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
			Agent{Browser: "Safari", BrowserVersion: "17.4", OS: "Mac OS X", OSVersion: "10.15.7", DeviceType: DeviceDesktop, DeviceBrand: "Apple", DeviceModel: "Mac"}},
		{"iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
			Agent{Browser: "Mobile Safari", BrowserVersion: "17.4", OS: "iOS", OSVersion: "17.4", DeviceType: DeviceMobile, DeviceBrand: "Apple", DeviceModel: "iPhone"}},
		{"ipad", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
			Agent{Browser: "Mobile Safari", BrowserVersion: "16.6", OS: "iOS", OSVersion: "16.6", DeviceType: DeviceTablet, DeviceBrand: "Apple", DeviceModel: "iPad"}},
		{"android phone", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
			Agent{Browser: "Chrome Mobile", BrowserVersion: "124.0.6367", OS: "Android", OSVersion: "14", DeviceType: DeviceMobile, DeviceBrand: "Google", DeviceModel: "Pixel 8"}},
		{"android tablet (no Mobile marker)", "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
			Agent{Browser: "Chrome", BrowserVersion: "123.0.0", OS: "Android", OSVersion: "13", DeviceType: DeviceTablet, DeviceModel: "SM-X200"}},
		{"firefox on linux", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
			Agent{Browser: "Firefox", BrowserVersion: "125.0", OS: "Linux", DeviceType: DeviceDesktop}},
		{"crawler", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			Agent{Browser: "Googlebot", BrowserVersion: "2.1", DeviceType: DeviceBot}},
		{"command-line client", "curl/8.5.0", Agent{Browser: "curl", BrowserVersion: "8.5.0", DeviceType: DeviceOther}},
		{"unknown", "analytics-node-next/3.1.0", Agent{}},
		{"empty", "", Agent{}},
		{"too long to parse", "Mozilla/5.0 (Windows NT 10.0) Chrome/124.0 " + strings.Repeat("x", maxAgentBytes), Agent{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ua.Parse(c.in); got != c.want {
				t.Errorf("Parse(%q) = %+v, want %+v", c.in, got, c.want)
			}
			if got := ua.Parse(c.in); got != c.want { // from the cache
				t.Errorf("Parse(%q) again = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}

func TestEnrichAgent(t *testing.T) {
	ua := testAgents(t)
	const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
	for _, c := range []struct{ name, in, want string }{
		{"adds browser, os and device",
			`{"type":"page","context":{"userAgent":"` + iphone + `","ip":"1.2.3.4"}}`,
			`{"type":"page","context":{"userAgent":"` + iphone + `","ip":"1.2.3.4","browser":{"name":"Mobile Safari","version":"17.4"},"os":{"name":"iOS","version":"17.4"},"device":{"type":"mobile","manufacturer":"Apple","model":"iPhone"}}}`},
		{"keeps what a mobile SDK sent",
			`{"type":"track","context":{"os":{"name":"iOS","version":"17.4.1"},"device":{"type":"ios","id":"d1"},"userAgent":"` + iphone + `"}}`,
			`{"type":"track","context":{"os":{"name":"iOS","version":"17.4.1"},"device":{"type":"ios","id":"d1"},"userAgent":"` + iphone + `","browser":{"name":"Mobile Safari","version":"17.4"}}}`},
		{"no user agent", `{"type":"track","context":{"ip":"1.2.3.4"}}`, ``},
		{"no context", `{"type":"track","event":"x"}`, ``},
		{"user agent not a string", `{"type":"track","context":{"userAgent":42}}`, ``},
		{"nothing recognised", `{"type":"track","context":{"userAgent":"analytics-node-next/3.1.0"}}`, ``},
		{"escaped user agent", `{"context":{"userAgent":"curl\/8.5.0"}}`,
			`{"context":{"userAgent":"curl\/8.5.0","browser":{"name":"curl","version":"8.5.0"},"device":{"type":"other"}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := enrichAgent(ua, nil, []byte(c.in))
			if !ok {
				got = []byte(c.in)
			}
			want := c.want
			if want == "" {
				want = c.in
			}
			if string(got) != want || ok != (c.want != "") {
				t.Errorf("enrichAgent(%s) =\n %s, %v\nwant\n %s, %v", c.in, got, ok, want, c.want != "")
			}
		})
	}
}

// memSettings keeps settings in a map, as the store does in a table.
type memSettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSettings) Setting(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", mosaic.Errorf(mosaic.ENOTFOUND, "no setting %s", key)
	}
	return v, nil
}

func (s *memSettings) PutSetting(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[key] = value
	return nil
}

func TestEnrichFollowsSourceConfig(t *testing.T) {
	c := New(Options{Settings: &memSettings{}, UserAgents: testAgents(t)})
	msg := `{"type":"track","context":{"userAgent":"curl/8.5.0"}}`
	ev := mosaic.Event{SourceID: "s1", Message: []byte(msg)}
	c.Enrich(&ev)
	if !strings.Contains(string(ev.Message), `"browser":{"name":"curl"`) {
		t.Errorf("Enrich with the step on: %s", ev.Message)
	}
	if err := c.SetConfig(context.Background(), "s1", Config{Disabled: []string{StepUserAgent}}); err != nil {
		t.Fatal(err)
	}
	ev = mosaic.Event{SourceID: "s1", Message: []byte(msg)}
	c.Enrich(&ev)
	if string(ev.Message) != msg {
		t.Errorf("Enrich with user_agent disabled changed the event: %s", ev.Message)
	}
}

// geoDBs writes the two layouts of geolocation databases with the same
// networks and returns their paths.
func geoDBs(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	nl, us, v6 := netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8::/32")
	maxmind := []mmdbtest.Network{
		{Prefix: nl, Record: map[string]any{
			"country":      map[string]any{"iso_code": "NL", "names": map[string]any{"en": "Netherlands"}},
			"city":         map[string]any{"names": map[string]any{"en": "Amsterdam", "nl": "Amsterdam"}},
			"subdivisions": []any{map[string]any{"iso_code": "NH", "names": map[string]any{"en": "North Holland"}}},
			"location":     map[string]any{"latitude": 52.37, "longitude": 4.89, "time_zone": "Europe/Amsterdam"},
		}},
		{Prefix: us, Record: map[string]any{
			"registered_country": map[string]any{"iso_code": "US"}, // no country: only the registration is known
		}},
		{Prefix: v6, Record: map[string]any{"country": map[string]any{"iso_code": "DE"}}},
	}
	flat := []mmdbtest.Network{
		{Prefix: nl, Record: map[string]any{"country_code": "NL", "city": "Amsterdam", "state1": "North Holland",
			"latitude": float32(52.37), "longitude": float32(4.89)}},
		{Prefix: us, Record: map[string]any{"country_code": "US"}},
		{Prefix: v6, Record: map[string]any{"country_code": "DE"}},
	}
	paths := map[string]string{"maxmind": filepath.Join(dir, "maxmind.mmdb"), "ip-location-db": filepath.Join(dir, "flat.mmdb")}
	if err := mmdbtest.Write(paths["maxmind"], "GeoIP2-City", maxmind); err != nil {
		t.Fatal(err)
	}
	if err := mmdbtest.Write(paths["ip-location-db"], "dbip-city", flat); err != nil {
		t.Fatal(err)
	}
	return paths
}

func openGeo(t *testing.T, path string) *GeoDB {
	t.Helper()
	g, err := OpenGeoDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestGeoLookup(t *testing.T) {
	lat, lon := 52.37, 4.89
	for layout, path := range geoDBs(t) {
		g := openGeo(t, path)
		for _, c := range []struct {
			ip   string
			want Location
			ok   bool
		}{
			{"192.0.2.77", Location{Country: "NL", Region: "North Holland", City: "Amsterdam", Latitude: &lat, Longitude: &lon}, true},
			{"::ffff:192.0.2.1", Location{Country: "NL", Region: "North Holland", City: "Amsterdam", Latitude: &lat, Longitude: &lon}, true},
			{"198.51.100.9", Location{Country: "US"}, true},
			{"2001:db8::1", Location{Country: "DE"}, true},
			{"203.0.113.5", Location{}, false},
			{"10.0.0.1", Location{}, false},
		} {
			t.Run(layout+"/"+c.ip, func(t *testing.T) {
				got, ok := g.Lookup(netip.MustParseAddr(c.ip))
				if ok != c.ok || !sameLocation(got, c.want) {
					t.Errorf("Lookup(%s) = %s, %v, want %s, %v", c.ip, appendLocation(nil, &got), ok, appendLocation(nil, &c.want), c.ok)
				}
			})
		}
	}
}

func sameLocation(a, b Location) bool {
	return string(appendLocation(nil, &a)) == string(appendLocation(nil, &b))
}

func TestOpenGeoDBErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.mmdb")
	os.WriteFile(bad, []byte("not a database"), 0o644)
	for _, path := range []string{filepath.Join(dir, "missing.mmdb"), bad} {
		if _, err := OpenGeoDB(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("OpenGeoDB(%s) = %v, want an error naming the file", path, err)
		}
	}
}

func TestContextIP(t *testing.T) {
	g := openGeo(t, geoDBs(t)["ip-location-db"])
	loc := `"location":{"country":"NL","region":"North Holland","city":"Amsterdam","latitude":52.37,"longitude":4.89}`
	for _, c := range []struct {
		name, ip, geoOff, in, want string
	}{
		{"adds the location", IPKeep, "", `{"context":{"ip":"192.0.2.77"}}`, `{"context":{"ip":"192.0.2.77",` + loc + `}}`},
		{"keeps a location sent", IPKeep, "", `{"context":{"ip":"192.0.2.77","location":{"city":"Utrecht"}}}`, ``},
		{"unknown network", IPKeep, "", `{"context":{"ip":"203.0.113.5"}}`, ``},
		{"not an address", IPKeep, "", `{"context":{"ip":"localhost"}}`, ``},
		{"geo step off", IPKeep, "y", `{"context":{"ip":"192.0.2.77"}}`, ``},
		{"truncates after the lookup", IPTruncate, "", `{"context":{"ip":"192.0.2.77"}}`, `{"context":{"ip":"192.0.2.0",` + loc + `}}`},
		{"truncates IPv6 to /48", IPTruncate, "", `{"context":{"ip":"2001:db8:1:2:3::4"}}`, `{"context":{"ip":"2001:db8:1::","location":{"country":"DE"}}}`},
		{"removes after the lookup", IPRemove, "", `{"context":{"library":{"name":"x"},"ip":"192.0.2.77"}}`, `{"context":{"library":{"name":"x"},` + loc + `}}`},
		{"removes what is not an address", IPRemove, "", `{"context":{"ip":"n/a","locale":"nl"}}`, `{"context":{"locale":"nl"}}`},
		{"removes with the geo step off", IPRemove, "y", `{"context":{"ip":"192.0.2.77"}}`, `{"context":{}}`},
		{"no ip", IPRemove, "", `{"context":{"locale":"nl"}}`, ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			vc := valueCleaner{phones: &Phones{}, disabled: map[string]bool{StepGeo: c.geoOff != ""}, geo: g, ip: c.ip}
			want := c.want
			if want == "" {
				want = c.in
			}
			// Twice: the second reads the address's location from the
			// database's cache.
			for run := range 2 {
				if got := string(vc.message([]byte(c.in))); got != want {
					t.Errorf("message(%s), run %d =\n %s\nwant\n %s", c.in, run, got, want)
				}
			}
		})
	}
}

func TestConfigIPValidate(t *testing.T) {
	for _, ip := range []string{"", IPKeep, IPTruncate, IPRemove} {
		c := Config{IP: ip}
		if err := c.Validate(); err != nil {
			t.Errorf("Config{IP: %q}.Validate() = %v", ip, err)
		}
	}
	c := Config{IP: "hash"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "truncate") {
		t.Errorf("Config{IP: hash}.Validate() = %v, want an error listing the choices", err)
	}
}

// TestCountryDatabaseFromNPM reads the CC0 country database the project's
// package.json installs (scripts/test-env.sh), the one docs/data-quality.md
// suggests for development.
func TestCountryDatabaseFromNPM(t *testing.T) {
	path := filepath.Join("..", "node_modules", "@ip-location-db", "geo-whois-asn-country-mmdb", "geo-whois-asn-country.mmdb")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: run scripts/test-env.sh (npm install)", path)
		}
		t.Skipf("%s missing: run scripts/test-env.sh (npm install)", path)
	}
	g := openGeo(t, path)
	for ip, want := range map[string]string{"8.8.8.8": "US", "2001:4860:4860::8888": "US", "145.220.1.1": "NL"} {
		if got, ok := g.Lookup(netip.MustParseAddr(ip)); !ok || got.Country != want {
			t.Errorf("Lookup(%s) = %+v, %v, want country %s", ip, got, ok, want)
		}
	}
	if _, ok := g.Lookup(netip.MustParseAddr("10.1.2.3")); ok {
		t.Error("Lookup(10.1.2.3) found a private address")
	}
}

// FuzzEnrich: geolocation, address truncation and the user-agent step
// never panic and always leave valid JSON.
func FuzzEnrich(f *testing.F) {
	f.Add([]byte(`{"type":"page","context":{"userAgent":"curl/8.5.0","ip":"192.0.2.77","traits":{"email":" A@B.NL"}}}`))
	f.Add([]byte(`{"context":{"ip":"2001:db8::1","location":{},"userAgent":"\u0041"}}`))
	f.Add([]byte(`{"context":{"ip":7,"userAgent":null},"context":{"ip":"x"}}`))
	dir := f.TempDir()
	path := filepath.Join(dir, "geo.mmdb")
	if err := mmdbtest.Write(path, "dbip-city", []mmdbtest.Network{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Record: map[string]any{"country_code": "NL", "city": "Amsterdam"}},
	}); err != nil {
		f.Fatal(err)
	}
	g, err := OpenGeoDB(path)
	if err != nil {
		f.Fatal(err)
	}
	defer g.Close()
	ua := testAgents(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ip := range []string{IPKeep, IPTruncate, IPRemove} {
			vc := valueCleaner{phones: &Phones{}, region: "NL", disabled: map[string]bool{}, geo: g, ip: ip}
			out := vc.message(b)
			if json.Valid(b) && !json.Valid(out) {
				t.Fatalf("message(%s) with ip %s = %s: not JSON", b, ip, out)
			}
		}
		if out, ok := enrichAgent(ua, nil, b); ok && json.Valid(b) && !json.Valid(out) {
			t.Fatalf("enrichAgent(%s) = %s: not JSON", b, out)
		}
	})
}
