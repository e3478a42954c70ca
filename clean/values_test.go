package clean

import (
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{" Ada@Example.COM ", "ada@example.com", true},
		{"<jan@voorbeeld.nl>", "jan@voorbeeld.nl", true},
		{"mailto:Piet@X.nl", "piet@x.nl", true},
		{"geen-email", "geen-email", false},
		{"a@b", "a@b", false},
		{"a@@b.nl", "a@@b.nl", false},
		{"a b@c.nl", "a b@c.nl", false},
		{"a@b..nl", "a@b..nl", false},
		// Internationalised domains to their ASCII form; the local part kept.
		{"Jürgen@Bücher.DE", "jürgen@xn--bcher-kva.de", true},
		{" info@münchen.de ", "info@xn--mnchen-3ya.de", true},
		{"kees@ＶＯＯＲＢＥＥＬＤ.nl", "kees@voorbeeld.nl", true}, // full-width letters folded
		{"a@xn--bcher-kva.de", "a@xn--bcher-kva.de", true},
		{"a@bü\u200dcher.de", "a@bü\u200dcher.de", false}, // a joiner where none may be
	} {
		if got, ok := Email(c.in); got != c.want || ok != c.ok {
			t.Errorf("Email(%q) = %q, %v, want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestPhone(t *testing.T) {
	var p Phones
	for _, c := range []struct {
		in, region, want string
		ok               bool
	}{
		{"06 12345678", "NL", "+31612345678", true},
		{"06-12345678", "NL", "+31612345678", true},
		{"+31 (0)6 1234 5678", "", "+31612345678", true},
		{"0031612345678", "", "+31612345678", true},
		{"(415) 555-2671", "US", "+14155552671", true},
		{"020-1234567", "nl", "+31201234567", true},
		{"06 12345678", "", "06 12345678", false},
		{"12", "NL", "12", false},
	} {
		if got, ok := p.Format(c.in, c.region); got != c.want || ok != c.ok {
			t.Errorf("Format(%q, %q) = %q, %v, want %q, %v", c.in, c.region, got, ok, c.want, c.ok)
		}
	}
}

func TestCountry(t *testing.T) {
	for in, want := range map[string]string{
		"Nederland": "NL", "nederland": "NL", "Netherlands": "NL", "The Netherlands": "NL", "Holland": "NL",
		"NL": "NL", "nl": "NL", "NLD": "NL", "Belgie": "BE", "België": "BE", "BELGIUM": "BE", "Belgique": "BE",
		"Duitsland": "DE", "Deutschland": "DE", "frankrijk": "FR", "France": "FR", "UK": "GB",
		"Verenigd Koninkrijk": "GB", "United States": "US", "USA": "US", " Spanje ": "ES", "Curaçao": "CW",
	} {
		if got, ok := Country(in); got != want || !ok {
			t.Errorf("Country(%q) = %q, %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "Atlantis", "XX"} {
		if got, ok := Country(in); ok {
			t.Errorf("Country(%q) = %q, want none", in, got)
		}
	}
}

func TestNumberBoolName(t *testing.T) {
	for in, want := range map[string]float64{
		"12.50": 12.5, "12,50": 12.5, "1.234,56": 1234.56, "1,234.56": 1234.56, "€ 12,50": 12.5,
		"12.50 EUR": 12.5, "-3": -3, "1.234.567": 1234567, "1 234,5": 1234.5,
	} {
		if got, ok := Number(in); got != want || !ok {
			t.Errorf("Number(%q) = %v, %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "abc", "€"} {
		if got, ok := Number(in); ok {
			t.Errorf("Number(%q) = %v, want none", in, got)
		}
	}
	for in, want := range map[string]bool{"Ja": true, "nee": false, "YES": true, "0": false, "waar": true} {
		if got, ok := Bool(in); got != want || !ok {
			t.Errorf("Bool(%q) = %v, %v, want %v", in, got, ok, want)
		}
	}
	if got := Name("  Jan \u00a0 de\tVries "); got != "Jan de Vries" {
		t.Errorf("Name = %q", got)
	}
}

func TestTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-05-01":                "2024-05-01",
		"17-05-1990":                "1990-05-17",
		"01/02/1970":                "1970-02-01",
		"1.2.1970":                  "1970-02-01",
		"2024-05-01 10:00:00":       "2024-05-01T10:00:00Z",
		"2024-05-01T12:00:00+02:00": "2024-05-01T10:00:00Z",
		"1714557600":                "2024-05-01T10:00:00Z",
		"1714557600000":             "2024-05-01T10:00:00Z",
		"1 May 2024":                "2024-05-01",
	} {
		tm, dateOnly, ok := Time(in)
		if got := FormatTime(tm, dateOnly); got != want || !ok {
			t.Errorf("Time(%q) = %q, %v, want %q", in, got, ok, want)
		}
	}
	if _, _, ok := Time("gisteren"); ok {
		t.Error("Time(gisteren) parsed")
	}
}

func TestCleanMessage(t *testing.T) {
	vc := valueCleaner{phones: &Phones{}, region: "NL", disabled: map[string]bool{}}
	for _, c := range []struct{ name, in, want string }{
		{"untouched", `{"type":"track","event":"X","properties":{"sku":"A1"}}`, `{"type":"track","event":"X","properties":{"sku":"A1"}}`},
		{"traits", `{"type":"identify","traits":{"email":" A@B.NL","address":{"country":"Belgie"},"isVip":"ja"}}`,
			`{"type":"identify","traits":{"email":"a@b.nl","address":{"country":"BE"},"isVip":true},"context":{"cleaning":[{"field":"traits.email","step":"email","original":" A@B.NL"},{"field":"traits.address.country","step":"country","original":"Belgie"},{"field":"traits.isVip","step":"boolean","original":"ja"}]}}`},
		{"context traits and revenue", `{"type":"track","properties":{"revenue":"12,50"},"context":{"ip":"1.2.3.4","traits":{"phone":"0612345678"}}}`,
			`{"type":"track","properties":{"revenue":12.5},"context":{"ip":"1.2.3.4","traits":{"phone":"+31612345678"},"cleaning":[{"field":"properties.revenue","step":"number","original":"12,50"},{"field":"context.traits.phone","step":"phone","original":"0612345678"}]}}`},
		{"problem kept", `{"type":"identify","traits":{"email":"nope"}}`,
			`{"type":"identify","traits":{"email":"nope"},"context":{"cleaning":[{"field":"traits.email","step":"email","problem":"not an email address"}]}}`},
	} {
		if got := string(vc.message([]byte(c.in))); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	vc.disabled[StepEmail] = true
	in := `{"type":"identify","traits":{"email":" A@B.NL"}}`
	if got := string(vc.message([]byte(in))); got != in {
		t.Errorf("email step disabled: got %s", got)
	}
}

func FuzzCleanMessage(f *testing.F) {
	f.Add([]byte(`{"type":"identify","traits":{"email":" A@B.NL","phone":"06 12345678","country":"Nederland"}}`))
	f.Add([]byte(`{"traits":{"a":{"b":{"country":"x"}}},"context":"x"}`))
	vc := valueCleaner{phones: &Phones{}, region: "NL", disabled: map[string]bool{}}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = vc.message(b) // must not panic on any input
	})
}

func FuzzNormalisers(f *testing.F) {
	for _, s := range []string{"12,50", "06 12345678", "Belgie", "17-05-1990", " A@B.nl ", "ada@example.com", "Trail Runner", "first_name", "isVip", "createdAt"} {
		f.Add(s)
	}
	var p Phones
	f.Fuzz(func(t *testing.T, s string) {
		if e, ok := Email(s); ok {
			if again, ok2 := Email(e); !ok2 || again != e {
				t.Errorf("Email(Email(%q)) = %q, %v, want %q: cleaning twice must change nothing", s, again, ok2, e)
			}
		}
		p.Format(s, "NL")
		Country(s)
		Number(s)
		Time(s)
		_, _ = Bool(s)
		_ = Name(s)
		checkCleanAlready(t, s)
		checkStepFor(t, s)
		checkEmail(t, s)
		if got, want := marshalEscapes([]byte(s)), strings.ContainsAny(s, "<>&\u2028\u2029"); got != want {
			t.Errorf("marshalEscapes(%q) = %v, want %v", s, got, want)
		}
	})
}
