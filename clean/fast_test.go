package clean

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
)

// TestAppendChangesAsMarshal: the hand-written encoding of the change
// record is byte for byte what encoding/json writes.
func TestAppendChangesAsMarshal(t *testing.T) {
	for _, cs := range [][]Change{
		{{Field: "traits.email", Step: StepEmail, Original: json.RawMessage(`" Ada@Example.COM "`)}},
		{{Field: "traits.phone", Step: StepPhone, Problem: "not a valid phone number for region NL"},
			{Field: "properties.revenue", Step: StepNumber, Original: json.RawMessage(`"12,50"`)}},
		{{Field: "traits.name", Step: StepName, Original: json.RawMessage(`"Jan <b>&amp;</b>"`)}},
		{{Field: "traits.naam\"x", Step: StepName, Original: json.RawMessage(`"caf\u00e9\u2028"`)}},
		{{Field: "traits.x", Step: StepName, Original: json.RawMessage(`"ü\t"`)}},
	} {
		want, _ := json.Marshal(cs)
		if got := appendChanges(nil, cs); string(got) != string(want) {
			t.Errorf("appendChanges(%+v) =\n %s\nwant\n %s", cs, got, want)
		}
	}
}

// TestFastDateAgrees: the fast path for common dates gives what the
// layouts give, and leaves what is not a date to them.
func TestFastDateAgrees(t *testing.T) {
	for _, s := range []string{"2024-05-17", "17-05-2024", "17/05/2024", "17.05.2024", "31-02-2024", "2024-13-01",
		"00-01-2024", "2024-02-29", "2023-02-29", "1x-05-2024", "17-05/2024", "0001-01-01", "99-99-9999"} {
		var want time.Time
		wantOK := false
		for _, layout := range dateLayouts {
			if tm, err := time.Parse(layout, s); err == nil {
				want, wantOK = tm, true
				break
			}
		}
		got, dateOnly, ok := Time(s)
		if ok != wantOK || !got.Equal(want) || (ok && !dateOnly) {
			t.Errorf("Time(%q) = %v, %v, %v; the layouts give %v, %v", s, got, dateOnly, ok, want, wantOK)
		}
	}
}

// checkCleanAlready holds the already-clean checks to the steps: where a
// check says a value is clean, the step keeps it as it is.
func checkCleanAlready(t *testing.T, s string) {
	t.Helper()
	if emailClean([]byte(s)) {
		if e, ok := Email(s); !ok || e != s {
			t.Errorf("emailClean(%q) = true, but Email gives %q, %v", s, e, ok)
		}
	}
	if nameClean([]byte(s)) {
		if n := Name(s); n != s {
			t.Errorf("nameClean(%q) = true, but Name gives %q", s, n)
		}
	}
}

// TestCleanAlready: the already-clean checks agree with the steps, and
// say "clean" for the common clean values.
func TestCleanAlready(t *testing.T) {
	for _, tc := range []struct {
		s            string
		email, named bool
	}{
		{"ada@example.com", true, true},
		{"Ada@example.com", false, true},
		{" ada@example.com", false, false},
		{"ada@example.com.", false, true},
		{"ada@@example.com", false, true},
		{"mailto:ada@example.com", false, true},
		{"ada@example..com", false, true},
		{"ada@.example.com", false, true},
		{"@example.com", false, true},
		{"ada@example", false, true},
		{"a,b@example.com", false, true},
		{"ada@bücher.example", false, false},
		{"Trail Runner", false, true},
		{"Trail  Runner", false, false},
		{"Trail\tRunner", false, false},
		{"Trail Runner ", false, false},
		{"de\vVries", false, false},
		{"x\x01y", false, true},
		{"", false, false},
	} {
		checkCleanAlready(t, tc.s)
		if got := emailClean([]byte(tc.s)); got != tc.email {
			t.Errorf("emailClean(%q) = %v, want %v", tc.s, got, tc.email)
		}
		if got := nameClean([]byte(tc.s)); got != tc.named {
			t.Errorf("nameClean(%q) = %v, want %v", tc.s, got, tc.named)
		}
	}
}

// stepForSlow is stepFor as it was, folding every key with strings.Map:
// the reference the fast paths for folded and ASCII keys must agree with.
func stepForSlow(key string) string {
	k := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return unicode.ToLower(r)
	}, key)
	return stepForFolded(k, key)
}

// checkStepFor holds stepFor to stepForSlow.
func checkStepFor(t *testing.T, key string) {
	t.Helper()
	if got, want := stepFor(key), stepForSlow(key); got != want {
		t.Errorf("stepFor(%q) = %q, want %q", key, got, want)
	}
}

func TestStepFor(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"email", StepEmail}, {"E-mail", StepEmail}, {"Email Address", StepEmail},
		{"first_name", StepName}, {"firstName", StepName}, {"naam", StepName},
		{"telefoonnummer", StepPhone}, {"land", StepCountry}, {"dob", StepDate},
		{"createdAt", StepDate}, {"created_at", StepDate}, {"isVip", StepBoolean}, {"has_account", StepBoolean},
		{"price", StepNumber}, {"optIn", StepBoolean}, {"sku", ""}, {"product_id", ""}, {"island", ""},
		{"ÉMAIL", ""}, {"TELEFOON", StepPhone}, {"a_very_long_key_name_longer_than_thirty_two_bytes", ""}, {"x1", ""},
	} {
		if got := stepFor(tc.key); got != tc.want {
			t.Errorf("stepFor(%q) = %q, want %q", tc.key, got, tc.want)
		}
		checkStepFor(t, tc.key)
	}
}

// TestMarshalEscapes: marshalEscapes is bytes.ContainsAny of the
// characters json.Marshal escapes.
func TestMarshalEscapes(t *testing.T) {
	for _, s := range []string{"", "plain", "a<b", "x>", "&", "\u2028", "a\u2029b", "\u2027", "\u202a", "\xe2\x80", "\xe2", "é€", "\xe2\x80\xa8"} {
		if got, want := marshalEscapes([]byte(s)), strings.ContainsAny(s, "<>&\u2028\u2029"); got != want {
			t.Errorf("marshalEscapes(%q) = %v, want %v", s, got, want)
		}
	}
}

// emailRef is Email as it was before its ASCII fast paths: the reference
// they must agree with.
func emailRef(v string) (string, bool) {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(strings.TrimSuffix(v, ">"), "<")
	if strings.HasPrefix(strings.ToLower(v), "mailto:") {
		v = v[len("mailto:"):]
	}
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || strings.ContainsAny(v, " \t\r\n,;<>") || strings.Count(v, "@") != 1 {
		return v, false
	}
	domain := v[at+1:]
	if dot := strings.IndexByte(domain, '.'); dot <= 0 || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") {
		return v, false
	}
	local := strings.ToLower(v[:at])
	if isASCII(domain) {
		return local + "@" + strings.ToLower(domain), true
	}
	// An internationalised domain (bücher.example) goes to its ASCII form
	// (xn--bcher-kva.example), the one mail servers and other systems'
	// exports use, so both spellings are one identifier. The local part
	// stays as written: only the domain has an ASCII form.
	ascii, err := idnaProfile.ToASCII(domain)
	if err != nil {
		return v, false
	}
	return local + "@" + ascii, true
}

// checkEmail holds Email to emailRef.
func checkEmail(t *testing.T, s string) {
	t.Helper()
	got, gok := Email(s)
	want, wok := emailRef(s)
	if got != want || gok != wok {
		t.Errorf("Email(%q) = %q, %v; the reference gives %q, %v", s, got, gok, want, wok)
	}
}

func TestEmailAsReference(t *testing.T) {
	for _, s := range []string{"ada@example.com", " Klant1@Example.NL ", "MAILTO:A@B.NL", "mailto:", "<a@b.nl>", "MAİLTO:a@b.nl",
		"Ünal@Example.com", "a@BÜCHER.example", "a@b", "a@@b.nl", "a b@c.nl", "", "@x.nl", "A@B..NL", "mAiLtO:X@Y.Z"} {
		checkEmail(t, s)
	}
}
