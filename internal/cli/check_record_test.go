package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestCheckRecordRefusesUnsafeFolder: --record once wrote into a folder any
// user could write and followed a link planted in it, overwriting the
// link's target. Now it refuses such a folder, one that is not empty and
// one another user owns, before any request, and touches no target.
func TestCheckRecordRefusesUnsafeFolder(t *testing.T) {
	t.Parallel()
	_, cfg, dir := checkSetup(t)
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}

	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(dir, "planted")
	if err := os.Mkdir(planted, 0o700); err != nil {
		t.Fatal(err)
	}
	// The recorder's first file name and its index, planted as links.
	for _, name := range []string{"001-oauth2-token.json", "index.json"} {
		if err := os.Symlink(target, filepath.Join(planted, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ dir, want string }{
		{open, "is writable by every user"},
		{planted, "is not empty"},
	} {
		code, out, errOut := runCheck(t, "--config.file="+cfg, "--record="+tc.dir)
		if code != 2 || !strings.Contains(errOut, "error: --record: "+tc.dir+" "+tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want 2 and %q\n%s", tc.dir, code, errOut, tc.want, out)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Fatalf("a link's target was overwritten: %q", b)
	}
	// A sticky world-writable folder (as /tmp) is fine: nobody else can
	// replace what the recorder creates there.
	sticky := filepath.Join(dir, "sticky")
	if err := os.Mkdir(sticky, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCheck(t, "--config.file="+cfg, "--record="+sticky); code != 0 {
		t.Fatalf("sticky folder: exit %d: %s", code, errOut)
	}
	if os.Getuid() == 0 {
		other := filepath.Join(dir, "other")
		if err := os.Mkdir(other, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := runCheck(t, "--config.file="+cfg, "--record="+other); code != 2 || !strings.Contains(errOut, "belongs to another user") {
			t.Errorf("a folder of another user: exit %d, stderr %q", code, errOut)
		}
	}
}

// TestRecorderNeverFollowsALink: a link planted in the folder after the
// check started (a race) makes that one write fail; its target is kept.
func TestRecorderNeverFollowsALink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "rec")
	r, err := newRecorder(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(rec, "index.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "new"), filepath.Join(rec, "dangling.json")); err != nil {
		t.Fatal(err)
	}
	if err := r.create("dangling.json", []byte("x")); err == nil {
		t.Error("created a file through a dangling link")
	}
	if err := r.close(); err == nil {
		t.Error("index.json was written through a link")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Fatalf("a link's target was overwritten: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "new")); err == nil {
		t.Error("a dangling link's target was created")
	}
}

// TestCheckRecordKeepsTheClientsBounds: a 57 MB /limits body, which the
// client refuses past its 1 MiB bound, was read whole by the recorder (1 GB
// of memory, a 74 MB file). The recording now holds what the client read,
// no more.
func TestCheckRecordKeepsTheClientsBounds(t *testing.T) {
	t.Parallel()
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			t.Parallel()
			recordHugeLimits(t, gz)
		})
	}
}

// recordHugeLimits records a check against an org whose /limits body is
// 57 MB (gzip-compressed on the wire when gz), and checks the recording's
// size.
func recordHugeLimits(t *testing.T, gz bool) {
	d, cfg, dir := checkSetup(t)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/limits") {
			w.Header().Set("Content-Type", "application/json")
			var out io.Writer = w
			if gz {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				defer zw.Close()
				out = zw
			}
			io.WriteString(out, `{"DailyApiRequests":{"Max":15000,"Remaining":14000},"Pad":"`)
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			for range 57 {
				if _, err := out.Write(chunk); err != nil {
					return
				}
			}
			io.WriteString(out, `"}`)
			return
		}
		d.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(huge.Close)
	b, _ := os.ReadFile(cfg)
	cfgHuge := filepath.Join(dir, "huge.yml")
	if err := os.WriteFile(cfgHuge, regexp.MustCompile(`login_url: \S+`).ReplaceAll(b, []byte("login_url: "+huge.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "rec")
	_, _, errOut := runCheck(t, "--config.file="+cfgHuge, "--record="+rec)
	var total int64
	files, _ := filepath.Glob(filepath.Join(rec, "*"))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(f, "limits") && fi.Size() > 2<<20 {
			t.Errorf("%s: %d bytes recorded, more than the client reads of /limits", filepath.Base(f), fi.Size())
		}
		total += fi.Size()
	}
	if len(files) < 5 || total > 8<<20 {
		t.Errorf("%d files, %d bytes recorded in all; %s", len(files), total, errOut)
	}
}

// TestCheckRecordStopsAtItsCaps: an endless cursor once wrote 440 MB in a
// minute. The recording stops at its file cap, says so on stderr and in
// index.json, and check exits 1.
func TestCheckRecordStopsAtItsCaps(t *testing.T) {
	t.Parallel()
	d, cfg, dir := checkSetup(t)
	d.Server.EndlessCursors(true)
	rec := filepath.Join(dir, "rec")
	code, _, errOut := runCheck(t, "--config.file="+cfg, "--record="+rec)
	if code != 1 || !strings.Contains(errOut, "error: --record: recording stopped early, and the check with it: the run made more than the 1000 responses") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(rec, "*"))
	if len(files) != maxRecordFiles+1 {
		t.Errorf("%d files, want %d and index.json", len(files), maxRecordFiles)
	}
	var idx salesforce.FixtureIndex
	b, _ := os.ReadFile(filepath.Join(rec, "index.json"))
	if err := json.Unmarshal(b, &idx); err != nil || len(idx.Responses) != maxRecordFiles || !strings.Contains(idx.Incomplete, "1000 responses") {
		t.Errorf("index.json: %v, %d responses, incomplete %q", err, len(idx.Responses), idx.Incomplete)
	}
}

// TestCheckRecordRedactsTheInstanceHost: when the token response names an
// instance host other than the login host, that host, which names the org,
// is not in the recording either.
func TestCheckRecordRedactsTheInstanceHost(t *testing.T) {
	t.Parallel()
	d, cfg, dir := checkSetup(t)
	d.Server.SetInstanceURL("https://acme-corp-42.example.com")
	rec := filepath.Join(dir, "rec")
	if code, out, errOut := runCheck(t, "--config.file="+cfg, "--record="+rec); code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(rec, "*"))
	if len(files) < 5 {
		t.Fatalf("%d files recorded", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("acme-corp-42")) {
			t.Errorf("%s names the instance host", filepath.Base(f))
		}
	}
}

// A recorded Metadata API answer keeps no consumer key, secret,
// certificate or session, namespaced or not.
func TestScrubSOAPBlanksCredentials(t *testing.T) {
	t.Parallel()
	in := `<records><fullName>ns__App</fullName><oauthConfig><consumerKey>3MVG9abc</consumerKey><consumerSecret xsi:type="xsd:string">S3CR3T</consumerSecret><certificate>MIIB
cert</certificate><scopes>Full</scopes></oauthConfig></records><met:sessionId>00Dsess!AQ</met:sessionId>`
	out := scrubSOAP(in)
	for _, secret := range []string{"3MVG9abc", "S3CR3T", "MIIB", "00Dsess"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q kept in %s", secret, out)
		}
	}
	for _, kept := range []string{"<fullName>ns__App</fullName>", "<scopes>Full</scopes>", `<consumerSecret xsi:type="xsd:string">[redacted]</consumerSecret>`} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q lost from %s", kept, out)
		}
	}
}
