package privacy

import "fmt"

// Config is the consent configuration: the purposes and how Segment
// consent categories map to them.
type Config struct {
	purposes    *Purposes
	categoryMap map[string][]string
	mapped      map[string]bool // purposes some category maps to
}

// NewConfig checks purposes and categories (nil: the defaults). Every
// given category must map to configured purposes; default categories of
// purposes not configured are left out.
func NewConfig(purposes []Purpose, categories map[string][]string) (*Config, error) {
	if purposes == nil {
		purposes = DefaultPurposes()
	}
	p, err := NewPurposes(purposes)
	if err != nil {
		return nil, err
	}
	defaults := categories == nil
	if defaults {
		categories = DefaultCategories()
	}
	c := &Config{purposes: p, categoryMap: map[string][]string{}, mapped: map[string]bool{}}
	for cat, ps := range categories {
		for _, name := range ps {
			if !p.Has(name) {
				if defaults {
					continue // a default category of a purpose not configured
				}
				return nil, fmt.Errorf("privacy: consent category %q maps to purpose %q, which is not configured", cat, name)
			}
			c.categoryMap[cat] = append(c.categoryMap[cat], name)
			c.mapped[name] = true
		}
	}
	return c, nil
}

// Purposes returns the configured purposes.
func (c *Config) Purposes() *Purposes { return c.purposes }
