// Package browsertest starts a real headless Chromium for tests that drive
// pages the way a person's browser does.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds Chromium. Without it the test is skipped locally, and
// fails when the environment variable CI is set: a suite that silently never
// runs its browser tests is worse than none.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium not found, and CI is set: install it (Debian: apt-get install -y chromium; make test does)")
	}
	t.Skip("Chromium not found: install it (Debian: apt-get install -y chromium) to run the browser tests")
	return ""
}

// Start starts headless Chromium with a fresh profile and returns the
// browser's context; the browser stops when the test ends. Every host but
// 127.0.0.1 fails to resolve inside the browser, so a page can only reach
// the test's own servers.
func Start(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}
