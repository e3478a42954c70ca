package privacy

import (
	"fmt"
	"strings"
)

// ParsePurposes reads the purposes of an installation from the form the
// --purposes flag takes: names separated by commas, each granted while no
// signal says otherwise if followed by ":granted" (only processing that
// needs no consent should be), e.g.
//
//	necessary:granted,analytics,marketing,support_chat
//
// Empty gives DefaultPurposes. Default purposes keep their descriptions.
func ParsePurposes(s string) ([]Purpose, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultPurposes(), nil
	}
	known := map[string]Purpose{}
	for _, p := range DefaultPurposes() {
		known[p.Name] = p
	}
	var out []Purpose
	for item := range strings.SplitSeq(s, ",") {
		name, flag, _ := strings.Cut(strings.TrimSpace(item), ":")
		p := Purpose{Name: strings.TrimSpace(name), Description: known[strings.TrimSpace(name)].Description}
		switch strings.TrimSpace(flag) {
		case "":
		case "granted":
			p.Default = true
		default:
			return nil, fmt.Errorf("purpose %q: after the colon only \"granted\" may follow, not %q", p.Name, flag)
		}
		out = append(out, p)
	}
	if _, err := NewPurposes(out); err != nil {
		return nil, err
	}
	return out, nil
}
