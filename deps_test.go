package mosaic_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyRules keeps the dependency directions of the design: the
// root package imports nothing of the module, and only the store
// implementation imports a database driver.
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/mosaic-cdp/mosaic"
	onlyIn := map[string][]string{
		"modernc.org/sqlite":       {module + "/store/sqlite"},
		"github.com/pressly/goose": {module + "/store/sqlite", module + "/store/postgres"},
		"github.com/jackc/pgx":     {module + "/store/postgres"},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if pkg == module && strings.HasPrefix(imp, module+"/") {
				t.Errorf("the root package imports %s; it must import nothing of the module", imp)
			}
			for prefix, owners := range onlyIn {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(owners, pkg) {
					t.Errorf("%s imports %s; only %s may", pkg, imp, strings.Join(owners, " and "))
				}
			}
		}
	}
}
