package storetest

import (
	"strings"
	"testing"

	"github.com/mosaic-cdp/mosaic"
)

// setting is one key-value pair to put.
type setting struct{ key, value string }

func (s suite) settings(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 16<<10) // 256 KiB
	tests := []struct {
		name     string
		puts     []setting
		get      string
		want     string
		wantCode string
	}{
		{name: "unset", get: "admin_token_hash", wantCode: mosaic.ENOTFOUND},
		{name: "put then get", puts: []setting{{"admin_token_hash", "h1"}}, get: "admin_token_hash", want: "h1"},
		{name: "overwrite", puts: []setting{{"k", "v1"}, {"k", "v2"}}, get: "k", want: "v2"},
		{name: "empty value is set", puts: []setting{{"k", ""}}, get: "k", want: ""},
		{name: "other key unset", puts: []setting{{"k", "v"}}, get: "k2", wantCode: mosaic.ENOTFOUND},
		{name: "keys are exact", puts: []setting{{"k", "lower"}, {"K", "upper"}, {"k ", "space"}}, get: "K", want: "upper"},
		{name: "unicode", puts: []setting{{"clé 🔑", "värde 値"}}, get: "clé 🔑", want: "värde 値"},
		{name: "large value", puts: []setting{{"k", big}}, get: "k", want: big},
		{name: "value cleaned", puts: []setting{{"k", "a\xffb\x00c"}}, get: "k", want: "a\uFFFDbc"},
		{name: "key cleaned on put", puts: []setting{{"k\x00", "v"}}, get: "k", want: "v"},
		{name: "key cleaned on get", puts: []setting{{"k", "v"}}, get: "\x00k", want: "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			for _, p := range tt.puts {
				if err := st.PutSetting(t.Context(), p.key, p.value); err != nil {
					t.Fatalf("PutSetting(%q) = %v, want nil", p.key, err)
				}
			}
			got, err := st.Setting(t.Context(), tt.get)
			checkCode(t, "Setting("+tt.get+")", err, tt.wantCode)
			if got != tt.want {
				t.Errorf("Setting(%q) = %.40q, want %.40q", tt.get, got, tt.want)
			}
		})
	}
}
