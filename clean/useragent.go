package clean

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru"
	"github.com/ua-parser/uap-go/uaparser"
)

// Device types, as context.device.type says them.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceBot     = "bot"
	DeviceOther   = "other"
)

// Agent is what a user-agent string says: the browser, the operating
// system and the kind of device, named as the uap-core regexes name them
// ("Chrome", "Mobile Safari", "Mac OS X", "Android"). Empty fields were not
// recognised.
type Agent struct {
	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	DeviceType     string `json:"device_type,omitempty"`
	DeviceBrand    string `json:"device_brand,omitempty"`
	DeviceModel    string `json:"device_model,omitempty"`
}

// DefaultAgentCacheSize is how many distinct user agents UserAgents keeps
// parsed. Real traffic repeats a few thousand strings (browser and OS
// versions); an uncached parse costs about a millisecond of regular
// expressions, a cached one well under a microsecond.
const DefaultAgentCacheSize = 8192

// maxAgentBytes caps the user agents parsed: longer strings are junk or
// attacks on the regular expressions, and are kept unparsed.
const maxAgentBytes = 512

// UserAgents parses user-agent strings, with an ARC cache of the results
// (ARC keeps the frequent strings when a crawl of rare ones passes by). It
// is safe for concurrent use.
type UserAgents struct {
	cache *lru.ARCCache // string → *agentEntry

	// front holds the agents seen lately in a map that is never changed,
	// only replaced: every event read is enriched, and a lookup there takes
	// no lock and, keyed by the message's own bytes, allocates nothing,
	// where the ARC cache locks and moves its lists on every Get.
	front    atomic.Pointer[map[string]*agentEntry]
	mu       sync.Mutex             // held to change pending and replace front
	pending  map[string]*agentEntry // looked up in the ARC cache since front was replaced
	frontMax int                    // frontSize but in tests

	once      sync.Once
	parser    *uaparser.Parser
	parserErr error
}

// agentEntry is a parse result with the JSON members enrichment adds to a
// context, encoded once per distinct user agent.
type agentEntry struct {
	agent   Agent
	browser []byte // {"name":…,"version":…} or nil
	os      []byte
	device  []byte
}

// NewUserAgents returns a parser that caches size results (0: the default).
// The uap-core regexes are compiled at the first parse, which takes about a
// second of CPU, so that a server that never sees a user agent never pays
// it.
func NewUserAgents(size int) (*UserAgents, error) {
	if size <= 0 {
		size = DefaultAgentCacheSize
	}
	c, err := lru.NewARC(size)
	if err != nil {
		return nil, err
	}
	return &UserAgents{cache: c, frontMax: frontSize}, nil
}

func (u *UserAgents) compile() (*uaparser.Parser, error) {
	u.once.Do(func() {
		// The library's own caches are per part and locked per call;
		// ours keeps whole results, so theirs only needs to exist.
		u.parser, u.parserErr = uaparser.New(uaparser.WithCacheSize(1))
	})
	return u.parser, u.parserErr
}

// Parse returns what ua says.
func (u *UserAgents) Parse(ua string) Agent {
	return u.entry(ua).agent
}

func (u *UserAgents) entry(ua string) *agentEntry {
	if v, ok := u.cache.Get(ua); ok {
		return v.(*agentEntry)
	}
	e := &agentEntry{}
	if p, err := u.compile(); err == nil && len(ua) <= maxAgentBytes {
		e.agent = parseAgent(p, ua)
	}
	e.browser = nameVersion(e.agent.Browser, e.agent.BrowserVersion)
	e.os = nameVersion(e.agent.OS, e.agent.OSVersion)
	if e.agent.DeviceType != "" {
		e.device = appendDevice(nil, &e.agent)
	}
	u.cache.Add(ua, e)
	return e
}

// frontSize caps the agents front holds; past it, front starts again from
// the agents seen since it was last replaced.
const frontSize = 4096

// entryOfJSON is entry for a JSON value, which must be a non-empty string
// for there to be an agent: ok is false otherwise.
func (u *UserAgents) entryOfJSON(raw []byte) (e *agentEntry, ok bool) {
	if s, ok := unquotedBytes(raw); ok {
		if len(s) == 0 {
			return nil, false
		}
		if m := u.front.Load(); m != nil {
			if e, ok := (*m)[string(s)]; ok {
				return e, true
			}
		}
		agent := string(s)
		e := u.entry(agent)
		u.promote(agent, e)
		return e, true
	}
	// Escapes are rare in user agents, and decoded properly when present.
	var agent string
	if len(raw) < 2 || raw[0] != '"' || json.Unmarshal(raw, &agent) != nil || agent == "" {
		return nil, false
	}
	return u.entry(agent), true
}

// promote puts e in front, by a new map once enough agents are pending
// for the copy to cost a few entries per agent.
func (u *UserAgents) promote(agent string, e *agentEntry) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending == nil {
		u.pending = make(map[string]*agentEntry)
	}
	u.pending[agent] = e
	old := u.front.Load()
	n := 0
	if old != nil {
		n = len(*old)
	}
	if len(u.pending) < n/4 {
		return
	}
	m := make(map[string]*agentEntry, n+len(u.pending))
	if old != nil && n+len(u.pending) <= u.frontMax {
		for k, v := range *old {
			m[k] = v
		}
	}
	for k, v := range u.pending {
		m[k] = v
	}
	u.front.Store(&m)
	clear(u.pending)
}

// parse runs the three parts one after the other: the library's Parse
// starts a goroutine for each, which costs more than it saves here.
func parseAgent(p *uaparser.Parser, ua string) Agent {
	b := p.ParseUserAgent(ua)
	o := p.ParseOs(ua)
	d := p.ParseDevice(ua)
	a := Agent{
		Browser: known(b.Family), BrowserVersion: version(b.Major, b.Minor, b.Patch),
		OS: known(o.Family), OSVersion: version(o.Major, o.Minor, o.Patch),
		DeviceBrand: d.Brand, DeviceModel: d.Model,
	}
	if a.OS == "" {
		a.OSVersion = ""
	}
	if a.Browser == "" {
		a.BrowserVersion = ""
	}
	a.DeviceType = deviceType(ua, a.Browser, a.OS, d.Family)
	// uap-core's placeholders for "some Android tablet" and crawlers are
	// not manufacturers.
	if strings.HasPrefix(a.DeviceBrand, "Generic") {
		a.DeviceBrand = ""
	}
	if a.DeviceType == DeviceBot {
		a.DeviceBrand, a.DeviceModel = "", ""
	}
	return a
}

// known maps uap-core's "Other" (not recognised) to "".
func known(family string) string {
	if family == "Other" {
		return ""
	}
	return family
}

func version(parts ...string) string {
	v := ""
	for _, p := range parts {
		if p == "" {
			break
		}
		if v != "" {
			v += "."
		}
		v += p
	}
	return v
}

// deviceType classifies the device the way analytics tools report it.
// uap-core names device families (iPhone, iPad, Samsung SM-T500, Spider)
// but not their kind, so the kind comes from those names and from the
// markers browsers put in the string ("Mobile", "Tablet").
func deviceType(ua, browser, os, device string) string {
	switch {
	case device == "Spider" || strings.Contains(browser, "bot") || strings.Contains(browser, "Bot") || strings.Contains(browser, "Spider"):
		return DeviceBot
	case device == "iPad" || strings.Contains(device, "Tablet") || strings.Contains(device, "Kindle") ||
		strings.Contains(ua, "Tablet") || (os == "Android" && !strings.Contains(ua, "Mobile")):
		return DeviceTablet
	case device == "iPhone" || device == "iPod" || strings.Contains(ua, "Mobi") ||
		os == "iOS" || os == "Android" || os == "Windows Phone" || os == "KaiOS" || os == "BlackBerry OS":
		return DeviceMobile
	case os == "Windows" || os == "Mac OS X" || os == "Linux" || os == "Ubuntu" || os == "Chrome OS" ||
		os == "Fedora" || os == "Debian" || os == "FreeBSD" || os == "OpenBSD" || strings.HasPrefix(os, "Windows"):
		return DeviceDesktop
	case os == "" && browser == "":
		return ""
	}
	return DeviceOther
}

// nameVersion encodes {"name":…,"version":…}, or nil without a name.
func nameVersion(name, ver string) []byte {
	if name == "" {
		return nil
	}
	b := append([]byte(`{"name":`), quote(name)...)
	if ver != "" {
		b = append(b, `,"version":`...)
		b = append(b, quote(ver)...)
	}
	return append(b, '}')
}

func appendDevice(b []byte, a *Agent) []byte {
	b = append(b, `{"type":`...)
	b = append(b, quote(a.DeviceType)...)
	if a.DeviceBrand != "" {
		b = append(b, `,"manufacturer":`...)
		b = append(b, quote(a.DeviceBrand)...)
	}
	if a.DeviceModel != "" {
		b = append(b, `,"model":`...)
		b = append(b, quote(a.DeviceModel)...)
	}
	return append(b, '}')
}
