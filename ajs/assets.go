package ajs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// assetFS holds Segment's browser library as scripts/vendor-analytics-next.sh
// copied it from the pinned npm package: standalone.js, the webpack chunks it
// loads on demand, its license and a VERSION file. Embedding it means the
// binary serves the library with no npm and no network at build or run time.
//
//go:embed assets
var assetFS embed.FS

// chunkName matches the file names of webpack chunks: a chunk name, then a
// content hash. Only such files are served under /analytics-next/bundles/.
var chunkName = regexp.MustCompile(`^[A-Za-z0-9_-]+\.bundle\.[0-9a-f]+\.js$`)

// Cache lifetimes. A chunk's name carries its content hash, so a new library
// version gets new names and a chunk can be cached for good. The script's URL
// stays the same across versions, so it is cached briefly and revalidated by
// ETag; an upgrade of Mosaic reaches browsers within minutes.
const (
	scriptCacheControl = "public, max-age=300"
	chunkCacheControl  = "public, max-age=31536000, immutable"
)

// library is the embedded browser library, ready to serve.
type library struct {
	version string
	script  *asset
	chunks  map[string]*asset
}

// embedded loads the library once; it is read-only afterwards.
var embedded = sync.OnceValues(func() (*library, error) {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	return loadLibrary(sub)
})

// LibraryVersion returns the version of Segment's @segment/analytics-next
// package that Mosaic embeds and serves, such as "1.84.3".
func LibraryVersion() string {
	lib, err := embedded()
	if err != nil {
		return "unknown"
	}
	return lib.version
}

// loadLibrary reads standalone.js, the chunks and VERSION from fsys. An error
// means the vendored copy is incomplete: rerun the vendoring script.
func loadLibrary(fsys fs.FS) (*library, error) {
	const redo = "rerun scripts/vendor-analytics-next.sh"
	version, err := fs.ReadFile(fsys, "VERSION")
	if err != nil {
		return nil, fmt.Errorf("reading the embedded library's VERSION: %w; %s", err, redo)
	}
	script, err := fs.ReadFile(fsys, "standalone.js")
	if err != nil {
		return nil, fmt.Errorf("reading the embedded library's standalone.js: %w; %s", err, redo)
	}
	lib := &library{
		version: strings.TrimSpace(string(version)),
		script:  newAsset(script, scriptCacheControl),
		chunks:  map[string]*asset{},
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("listing the embedded library: %w; %s", err, redo)
	}
	for _, e := range entries {
		if e.IsDir() || !chunkName.MatchString(e.Name()) {
			continue
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading the embedded chunk %s: %w; %s", e.Name(), err, redo)
		}
		lib.chunks[e.Name()] = newAsset(body, chunkCacheControl)
	}
	if len(lib.chunks) == 0 {
		return nil, fmt.Errorf("the embedded library has no *.bundle.*.js chunks; %s", redo)
	}
	return lib, nil
}

// asset is one JavaScript file, served as is or gzip-compressed.
type asset struct {
	body         []byte
	etag         string // quoted, from the content hash
	cacheControl string

	gzipOnce sync.Once // compress on first use: most chunks are never asked for
	gzipBody []byte
}

func newAsset(body []byte, cacheControl string) *asset {
	sum := sha256.Sum256(body)
	return &asset{
		body:         body,
		etag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
		cacheControl: cacheControl,
	}
}

// gzipped returns the compressed body and its ETag. A representation with a
// different encoding needs its own ETag, or caches would mix them up.
func (a *asset) gzipped() (body []byte, etag string) {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		zw.Write(a.body)                                         // a bytes.Buffer cannot fail
		zw.Close()
		a.gzipBody = buf.Bytes()
	})
	return a.gzipBody, strings.TrimSuffix(a.etag, `"`) + `-gzip"`
}

// serve writes the asset for a GET or HEAD request, gzip-compressed when the
// client accepts it, or 304 when the client's copy is current.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	body, etag := a.body, a.etag
	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = a.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	h.Set("Cache-Control", a.cacheControl)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/javascript")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed
// (or "*" is) without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q=")
		if !ok {
			return true
		}
		if v, err := strconv.ParseFloat(q, 64); err == nil && v > 0 {
			return true
		}
	}
	return false
}

// etagMatches implements If-None-Match's weak comparison: "*" or any listed
// tag equal to etag, ignoring a W/ prefix.
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
