package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mosaic-cdp/mosaic/browsertest"
)

// TestBrowserSnippet is the website's view: a page on its own origin with
// Segment's standard snippet, its host changed to Mosaic's, loads the
// library and settings from the real server and sends events that then show
// in the events API.
func TestBrowserSnippet(t *testing.T) {
	browser := browsertest.Start(t)
	m := startMain(t)
	src := createSource(t, m, "website")

	tmpl := template.Must(template.ParseFiles("../../ajs/testdata/snippet.html"))
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = tmpl.Execute(w, map[string]string{"Origin": m.URL(), "WriteKey": src.WriteKey})
	}))
	defer page.Close()

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(tab, 30*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/checkout")); err != nil {
		t.Fatalf("open page: %v", err)
	}

	byType := map[string]storedEvent{}
	for _, e := range allEvents(t, m, src.ID, 3) {
		byType[e.Type] = e
	}
	if e := byType["track"]; e.Event != "Order Completed" || e.UserID != "user-42" || e.Properties["revenue"] != 42.5 {
		t.Errorf("track = %+v, want Order Completed by user-42 with revenue 42.5", e)
	}
	if e := byType["identify"]; e.Traits["email"] != "ada@example.com" {
		t.Errorf("identify = %+v, want the email trait", e)
	}
	p, ok := byType["page"]
	if !ok {
		t.Fatalf("no page event; got %v", byType)
	}
	pageCtx, _ := p.Context["page"].(map[string]any)
	if url, _ := pageCtx["url"].(string); url != page.URL+"/checkout" {
		t.Errorf("page context.page.url = %q, want %q", url, page.URL+"/checkout")
	}
	if p.AnonymousID == "" || p.AnonymousID != byType["track"].AnonymousID {
		t.Errorf("anonymousId page %q, track %q: want the same browser id", p.AnonymousID, byType["track"].AnonymousID)
	}
}
