package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// The bounds of one `check --record`. A check costs a few dozen requests of
// a few kilobytes each; these leave room for a large org's query pages and
// stop a server that answers without end.
const (
	// maxRecordBytes bounds the bytes of responses recorded, summed over the
	// whole run (a body is counted as read, and again if redaction makes it
	// longer).
	maxRecordBytes = 64 << 20
	// maxRecordFiles bounds the responses recorded.
	maxRecordFiles = 1000
)

// recorder writes each response the client reads, redacted, into a fixture
// folder that sftest.Replay serves. It records what the client read, so the
// client's own bounds (body sizes, pages) apply to the recording too, and it
// stops recording and the check, saying why, at maxRecordBytes or
// maxRecordFiles.
//
// The folder must be new or empty, owned by the user and not writable by
// others (unless sticky, as /tmp is); every file is created exclusively and
// without following a symbolic link, so no link planted in the folder can
// redirect a write.
type recorder struct {
	dir  string
	root *os.Root
	red  *salesforce.Redactor

	mu      sync.Mutex
	idx     salesforce.FixtureIndex
	hosts   map[string]bool // the org's hosts named by token responses (instance_url)
	bytes   int64           // recorded so far, against maxRecordBytes
	stopped string          // why recording stopped; "" while it goes on
	// cancel ends the check when recording stops: a run past a cap is a
	// server answering without end, and the recording is what was asked for.
	cancel context.CancelFunc
}

// stop ends recording, and the check with it. r.mu is held.
func (r *recorder) stop(why string) {
	if r.stopped != "" {
		return
	}
	r.stopped = why
	if r.cancel != nil {
		r.cancel()
	}
}

func newRecorder(dir string) (*recorder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if err := safeRecordDir(root, dir); err != nil {
		root.Close()
		return nil, err
	}
	return &recorder{dir: dir, root: root, red: salesforce.NewRedactor(), idx: salesforce.FixtureIndex{Source: "check --record"}}, nil
}

// safeRecordDir refuses a folder another user could plant files or links
// in, and one that already holds files (an earlier recording would be mixed
// in). It checks the folder as opened, so a rename after the check changes
// nothing.
func safeRecordDir(root *os.Root, dir string) error {
	fi, err := root.Stat(".")
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("%s belongs to another user (uid %d): record into a folder of your own, such as a new one under your home", dir, uid)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s is writable by every user (mode %v): another user could plant files or links in it; record into a folder only you can write (chmod o-w, or a new folder)", dir, fi.Mode().Perm())
	}
	f, err := root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if len(names) > 0 {
		return fmt.Errorf("%s is not empty (it holds %q): record into a new or empty folder, so no earlier recording is mixed in or overwritten", dir, names[0])
	}
	return nil
}

// create writes a new file in the folder: exclusively, never through a link.
func (r *recorder) create(name string, b []byte) error {
	f, err := r.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (r *recorder) transport(org, loginURL string) http.RoundTripper {
	return &recordingTransport{r: r, base: http.DefaultTransport, loginHost: hostOf(loginURL)}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.idx.Responses)
}

// close writes index.json, and says so if recording stopped early.
func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.root.Close()
	r.idx.Incomplete = r.stopped
	b, err := json.MarshalIndent(r.idx, "", "  ")
	if err != nil {
		return err
	}
	if err := r.create("index.json", append(b, '\n')); err != nil {
		return err
	}
	if r.stopped != "" {
		return fmt.Errorf("recording stopped early, and the check with it: %s; the %d responses before it are in %s (index.json says so). Record one org at a time with --org, or report the response that grew", r.stopped, len(r.idx.Responses), r.dir)
	}
	return nil
}

// reserve takes n bytes of the recording's budget, or stops recording.
// r.mu is held.
func (r *recorder) reserve(n int64) bool {
	if r.stopped != "" {
		return false
	}
	if r.bytes+n > maxRecordBytes {
		r.stop(fmt.Sprintf("the responses reached the %d MiB a recording may hold", maxRecordBytes>>20))
		return false
	}
	r.bytes += n
	return true
}

type recordingTransport struct {
	r         *recorder
	base      http.RoundTripper
	loginHost string
}

// RoundTrip implements http.RoundTripper: it hands the response on, and
// records its body as the client reads it, when the client closes it.
func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	// Decompress here, so what is recorded is what the client reads after
	// decompression and up to its own bound, not the whole stream.
	if resp.Header.Get("Content-Encoding") == "gzip" {
		var head bytes.Buffer
		zr, err := gzip.NewReader(io.TeeReader(resp.Body, &head))
		if err != nil {
			// Not gzip after all: the client gets the bytes as they came.
			resp.Body = readCloser{io.MultiReader(&head, resp.Body), resp.Body}
		} else {
			resp.Body = readCloser{zr, resp.Body}
			resp.Header.Del("Content-Encoding")
			resp.Header.Del("Content-Length")
			resp.ContentLength = -1
			resp.Uncompressed = true
		}
	}
	resp.Body = &recordedBody{under: resp.Body, t: t, req: req, resp: resp}
	return resp, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// recordedBody keeps what the client reads of a body, within the
// recording's budget, and records it on Close.
type recordedBody struct {
	under io.ReadCloser
	t     *recordingTransport
	req   *http.Request
	resp  *http.Response
	buf   bytes.Buffer
	cut   bool // the budget ran out: the body is not recorded
	once  sync.Once
}

func (b *recordedBody) Read(p []byte) (int, error) {
	n, err := b.under.Read(p)
	if n > 0 && !b.cut {
		r := b.t.r
		r.mu.Lock()
		ok := r.reserve(int64(n))
		r.mu.Unlock()
		if ok {
			b.buf.Write(p[:n])
		} else {
			b.cut = true
			b.buf = bytes.Buffer{}
		}
	}
	return n, err
}

func (b *recordedBody) Close() error {
	err := b.under.Close()
	b.once.Do(func() {
		if !b.cut {
			b.t.r.write(b.req, b.resp, b.buf.Bytes(), b.t.loginHost)
		}
		b.buf = bytes.Buffer{}
	})
	return err
}

func (r *recorder) write(req *http.Request, resp *http.Response, body []byte, loginHost string) {
	// The org's hosts name it: replace them before the redactor sees them.
	// The instance host, when it is not the login host, first appears in
	// the token response's instance_url.
	if strings.HasSuffix(req.URL.Path, "/oauth2/token") {
		var tok struct {
			InstanceURL string `json:"instance_url"`
		}
		if json.Unmarshal(body, &tok) == nil {
			if h := hostOf(tok.InstanceURL); h != "" {
				r.mu.Lock()
				if r.hosts == nil {
					r.hosts = map[string]bool{}
				}
				r.hosts[h] = true
				r.mu.Unlock()
			}
		}
	}
	pairs := []string{req.URL.Host, "org.my.salesforce.example", loginHost, "org.my.salesforce.example"}
	r.mu.Lock()
	for h := range r.hosts {
		pairs = append(pairs, h, "org.my.salesforce.example")
	}
	r.mu.Unlock()
	body = []byte(strings.NewReplacer(pairs...).Replace(string(body)))
	var out []byte
	ct := resp.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(req.URL.Path, "/services/Soap/"):
		// A Metadata API answer: ConnectedApp records carry the consumer
		// key (and, where the org allows it, the secret and certificate).
		out, ct = []byte(r.red.String("", scrubSOAP(string(body)))), "text/xml"
	case strings.HasSuffix(req.URL.Path, "/LogFile"):
		b, err := r.red.CSV(body)
		if err != nil {
			b = []byte("[not recorded: " + err.Error() + "]\n")
		}
		out, ct = b, "text/csv"
	default:
		out = r.red.JSON(body)
		if ct == "" {
			ct = "application/json;charset=UTF-8"
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped != "" {
		return
	}
	if len(r.idx.Responses) >= maxRecordFiles {
		r.stop(fmt.Sprintf("the run made more than the %d responses a recording may hold", maxRecordFiles))
		return
	}
	if extra := int64(len(out) - len(body)); extra > 0 && !r.reserve(extra) {
		return
	}
	n := len(r.idx.Responses) + 1
	resource := strings.Trim(strings.NewReplacer("/services/data/", "", "/", "-").Replace(r.red.String("", req.URL.Path)), "-")
	if q := req.URL.Query().Get("q"); q != "" {
		if m := fromRE.FindStringSubmatch(q); m != nil {
			resource += "-" + m[1]
		}
	}
	if resource == "" {
		resource = "versions" // GET /services/data/: the API versions served
	}
	ext := map[bool]string{true: "csv", false: "json"}[ct == "text/csv"]
	if ct == "text/xml" {
		ext = "xml"
	}
	file := fmt.Sprintf("%03d-%s.%s", n, truncateName(resource), ext)
	if err := r.create(file, out); err != nil {
		r.stop(fmt.Sprintf("writing %s failed: %v", file, err))
		return
	}
	e := salesforce.FixtureEntry{Method: req.Method, Path: r.red.String("", req.URL.Path), Status: resp.StatusCode, ContentType: ct, File: file}
	if q := req.URL.Query().Get("q"); q != "" {
		e.Query = r.red.String("", q)
	}
	r.idx.Responses = append(r.idx.Responses, e)
}

// soapSecretRE matches the SOAP elements that hold a credential: a
// connected app's consumer key, secret and certificate, and a session.
var soapSecretRE = regexp.MustCompile(`(?s)<((?:[A-Za-z0-9_]+:)?(?:consumerKey|consumerSecret|certificate|sessionId))(\s[^>]*)?>.*?</`)

// scrubSOAP blanks the credentials of a SOAP body for a recording.
func scrubSOAP(body string) string {
	return soapSecretRE.ReplaceAllString(body, "<$1$2>[redacted]</")
}
