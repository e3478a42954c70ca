package synth

// context appends a message's context: what the SDK that sent it knows
// about the browser, app or server, and for forms the typed contact.
func (r *renderer) context(b []byte, p *person, ev *event, d *device) []byte {
	b = open(b, "context")
	switch {
	case d == nil:
		b = library(b, libServer)
	case d.app:
		b = r.appContext(b, p, ev, d)
	default:
		b = r.webContext(b, p, ev, d)
	}
	if ev.campaign >= 0 && ev.act == actPage {
		c := campaigns[ev.campaign]
		b = open(b, "campaign")
		b = str(b, "name", c.Name)
		b = str(b, "source", "newsletter")
		b = str(b, "medium", "email")
		b = append(b, '}')
	}
	if ev.act < actIdentifySignup || ev.act > actIdentifyPhone {
		if hasContact(ev) {
			b = r.contact(open(b, "traits"), p, ev)
			b = append(b, '}')
		}
	}
	return append(b, '}')
}

func library(b []byte, lib [2]string) []byte {
	b = open(b, "library")
	b = str(b, "name", lib[0])
	b = str(b, "version", lib[1])
	return append(b, '}')
}

// webContext is what analytics.js adds.
func (r *renderer) webContext(b []byte, p *person, ev *event, d *device) []byte {
	b = str(b, "ip", d.ip)
	b = library(b, libWeb)
	b = str(b, "locale", p.c.Locale)
	b = str(b, "timezone", p.c.Timezone)
	b = str(b, "userAgent", d.agent)
	path := pagePath(ev)
	b = open(b, "page")
	b = str(b, "path", path)
	b = str(b, "referrer", r.ref)
	b = str(b, "title", pageTitle(ev))
	b = str(b, "url", site+path)
	return append(b, '}')
}

// appContext is what the iOS and Android SDKs add.
func (r *renderer) appContext(b []byte, p *person, ev *event, d *device) []byte {
	m := d.model
	b = open(b, "app")
	b = str(b, "name", "Northpeak Outdoor")
	b = str(b, "version", "5.2.1")
	b = str(b, "build", "5210")
	b = str(b, "namespace", "com.example.northpeak")
	b = append(b, '}')
	b = open(b, "device")
	b = str(b, "id", d.deviceID)
	b = str(b, "advertisingId", d.adID)
	b = boolean(b, "adTrackingEnabled", d.adTracking)
	b = str(b, "manufacturer", m.Manufacturer)
	b = str(b, "model", m.Model)
	b = str(b, "name", m.Name)
	lib, kind := libAndroid, "android"
	if m.OS != "Android" {
		lib, kind = libIOS, "ios"
	}
	b = str(b, "type", kind)
	b = append(b, '}')
	b = str(b, "ip", d.ip)
	b = library(b, lib)
	b = str(b, "locale", p.c.Locale)
	b = open(b, "network")
	wifi := r.rng.IntN(3) != 0
	b = boolean(b, "wifi", wifi)
	b = boolean(b, "cellular", !wifi)
	b = str(b, "carrier", p.c.Carriers[mix(uint64(p.idx)^0x5bd1)%uint64(len(p.c.Carriers))])
	b = append(b, '}')
	b = open(b, "os")
	b = str(b, "name", m.OS)
	b = str(b, "version", m.OSVersion)
	b = append(b, '}')
	b = open(b, "screen")
	b = integer(b, "width", int64(m.Width))
	b = integer(b, "height", int64(m.Height))
	b = append(b, '}')
	return str(b, "timezone", p.c.Timezone)
}
