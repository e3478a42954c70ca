package clean

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Location is what a geolocation database says about an IP address. Only
// Country is set by a country database; a city database adds the rest.
type Location struct {
	Country   string   `json:"country,omitempty"` // ISO 3166-1 alpha-2
	Region    string   `json:"region,omitempty"`
	City      string   `json:"city,omitempty"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
}

// GeoDB looks IP addresses up in an MMDB file. It reads the two layouts in
// use: MaxMind's (country.iso_code, city.names.en, subdivisions,
// location.latitude), which DB-IP's own files follow too, and the flat one
// of the ip-location-db project (country_code, city, state1, latitude). It
// is safe for concurrent use.
type GeoDB struct {
	r    *maxminddb.Reader
	desc string

	// encoded caches the JSON of context.location by the record's offset
	// in the file: many networks share a record (a country database has
	// about 250), and decoding one costs far more than walking the tree.
	mu      sync.Mutex
	encoded map[uintptr][]byte
	// byAddr caches the same by the address as the event wrote it (a JSON
	// string): a visitor's events come from one address, and a map lookup
	// costs less than parsing the address and walking the tree.
	byAddr map[string][]byte
}

// maxEncoded bounds the cache of encoded locations; a city database has
// more records than that, and the cache then starts again.
const maxEncoded = 1 << 16

// OpenGeoDB opens the MMDB file at path. The file is memory-mapped: replace
// it with a new file (rename), never rewrite it in place, and restart.
func OpenGeoDB(path string) (*GeoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the geolocation database %s: %w (give the path of an MMDB file, e.g. from the ip-location-db or DB-IP downloads)", path, err)
	}
	// No r.Verify(): it also checks metadata some publishers leave out
	// (an empty description), and the reader bounds-checks every lookup.
	md := r.Metadata
	desc := fmt.Sprintf("%s, built %s", md.DatabaseType, md.BuildTime().UTC().Format("2006-01-02"))
	return &GeoDB{r: r, desc: desc, encoded: make(map[uintptr][]byte), byAddr: make(map[string][]byte)}, nil
}

// Close releases the file.
func (g *GeoDB) Close() error { return g.r.Close() }

// String names the database: its type and build date.
func (g *GeoDB) String() string { return g.desc }

// geoRecord holds the fields of both layouts; city and the coordinates
// are decoded loosely because their types differ between them (a map or
// a string; a double or a float).
type geoRecord struct {
	Country           isoCode `maxminddb:"country"`
	RegisteredCountry isoCode `maxminddb:"registered_country"`
	CountryCode       string  `maxminddb:"country_code"`
	City              any     `maxminddb:"city"`
	Subdivisions      []struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	State1   string `maxminddb:"state1"`
	Location struct {
		Latitude  any `maxminddb:"latitude"`
		Longitude any `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Latitude  any `maxminddb:"latitude"`
	Longitude any `maxminddb:"longitude"`
}

type isoCode struct {
	ISOCode string `maxminddb:"iso_code"`
}

// Lookup returns the location of ip, and false when the database has none
// (private and reserved addresses, unlisted networks).
func (g *GeoDB) Lookup(ip netip.Addr) (Location, bool) {
	res := g.r.Lookup(ip.Unmap())
	if !res.Found() {
		return Location{}, false
	}
	return decodeLocation(res)
}

// locationJSON returns the location of ip as context.location's JSON, or
// nil when the database has none. The slice is shared: do not change it.
func (g *GeoDB) locationJSON(ip netip.Addr) []byte { return g.lookupJSON(ip.Unmap()) }

// cachedJSON returns what locationJSON gives for the address raw (a JSON
// string, as context.ip holds it) from the cache, and whether it was there.
func (g *GeoDB) cachedJSON(raw []byte) ([]byte, bool) {
	g.mu.Lock()
	b, ok := g.byAddr[string(raw)]
	g.mu.Unlock()
	return b, ok
}

// locationJSONOf is locationJSON for ip, which the event wrote as raw,
// remembered by raw.
func (g *GeoDB) locationJSONOf(raw []byte, ip netip.Addr) []byte {
	b := g.locationJSON(ip)
	g.mu.Lock()
	if len(g.byAddr) >= maxEncoded {
		clear(g.byAddr)
	}
	g.byAddr[string(raw)] = b
	g.mu.Unlock()
	return b
}

// lookupJSON walks the tree for ip and returns its record's location JSON,
// encoded once per record.
func (g *GeoDB) lookupJSON(ip netip.Addr) []byte {
	res := g.r.Lookup(ip)
	if !res.Found() {
		return nil
	}
	off := res.Offset()
	g.mu.Lock()
	b, ok := g.encoded[off]
	g.mu.Unlock()
	if ok {
		return b
	}
	if loc, found := decodeLocation(res); found {
		b = appendLocation(nil, &loc)
	}
	g.mu.Lock()
	if len(g.encoded) >= maxEncoded {
		clear(g.encoded)
	}
	g.encoded[off] = b
	g.mu.Unlock()
	return b
}

func decodeLocation(res maxminddb.Result) (Location, bool) {
	var rec geoRecord
	if res.Decode(&rec) != nil {
		return Location{}, false
	}
	var loc Location
	loc.Country = strings.ToUpper(firstOf(rec.Country.ISOCode, rec.CountryCode, rec.RegisteredCountry.ISOCode))
	switch c := rec.City.(type) {
	case string:
		loc.City = c
	case map[string]any:
		if names, ok := c["names"].(map[string]any); ok {
			loc.City, _ = names["en"].(string)
		}
	}
	loc.Region = rec.State1
	if len(rec.Subdivisions) > 0 {
		loc.Region = firstOf(rec.Subdivisions[0].Names["en"], rec.Subdivisions[0].ISOCode)
	}
	loc.Latitude = coordinate(rec.Location.Latitude, rec.Latitude)
	loc.Longitude = coordinate(rec.Location.Longitude, rec.Longitude)
	if loc.Latitude == nil || loc.Longitude == nil {
		loc.Latitude, loc.Longitude = nil, nil
	}
	return loc, loc.Country != "" || loc.City != ""
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// coordinate returns the first of vs that is a number.
func coordinate(vs ...any) *float64 {
	for _, v := range vs {
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case float32:
			// Printed and parsed back so that 52.37 stays 52.37, not
			// 52.369998931884766.
			f, _ = strconv.ParseFloat(strconv.FormatFloat(float64(n), 'g', -1, 32), 64)
		default:
			continue
		}
		return &f
	}
	return nil
}

// appendLocation appends loc as a JSON object (Segment's context.location).
func appendLocation(b []byte, loc *Location) []byte {
	b = append(b, '{')
	sep := func() {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
	}
	if loc.Country != "" {
		b = append(b, `"country":`...)
		b = append(b, quote(loc.Country)...)
	}
	if loc.Region != "" {
		sep()
		b = append(b, `"region":`...)
		b = append(b, quote(loc.Region)...)
	}
	if loc.City != "" {
		sep()
		b = append(b, `"city":`...)
		b = append(b, quote(loc.City)...)
	}
	if loc.Latitude != nil {
		sep()
		b = append(b, `"latitude":`...)
		b = strconv.AppendFloat(b, *loc.Latitude, 'f', -1, 64)
		b = append(b, `,"longitude":`...)
		b = strconv.AppendFloat(b, *loc.Longitude, 'f', -1, 64)
	}
	return append(b, '}')
}

// IP address handling after geolocation (Config.IP).
const (
	IPKeep     = "keep"     // store context.ip as sent
	IPTruncate = "truncate" // zero the host part: IPv4 to /24, IPv6 to /48
	IPRemove   = "remove"   // drop context.ip
)

// truncateIP zeroes the host part of ip: what is left still tells the
// network (and so the country) but no longer one household.
func truncateIP(ip netip.Addr) netip.Addr {
	bits := 48
	if ip.Is4() || ip.Is4In6() {
		ip, bits = ip.Unmap(), 24
	}
	p, _ := ip.Prefix(bits)
	return p.Addr()
}
