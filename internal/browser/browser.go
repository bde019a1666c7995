// Package browser loads a page in headless Chromium for tests and reports
// what a person would see: console errors, the first section, anything wider
// than the window, and a screenshot.
//
// It drives Chromium over the DevTools protocol with chromedp: console
// events, evaluating layout in the page and full-page screenshots need the
// protocol, and chromedp is the maintained Go client for it (the flags-only
// --dump-dom and --screenshot modes report no console errors and cannot
// measure the layout).
package browser

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Width is the window width the pages are checked at.
const Width = 1280

// Page is what a loaded page showed.
type Page struct {
	// ConsoleErrors are console errors and uncaught exceptions.
	ConsoleErrors []string
	// FirstSection is the id of the first <section> in <main>.
	FirstSection string
	// Overflowing lists elements whose right edge is past the window.
	Overflowing []string
	// DocumentWidth is the page's scroll width.
	DocumentWidth int
	// ExternalRefs are src, href and CSS url() values pointing off the page.
	ExternalRefs []string
	// Text is the page's visible text.
	Text string
	// Screenshot is the full page as PNG; FirstScreen what the window shows first.
	Screenshot, FirstScreen []byte
	// Elements are screenshots of the elements Load was asked for, by selector.
	Elements map[string][]byte
}

// Exec finds Chromium, or skips the test where it isn't installed (CI
// installs it: .ci/tools.sh).
func Exec(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/tools.sh installs it")
	}
	t.Skip("chromium is not installed (apt-get install chromium, or run .ci/tools.sh)")
	return ""
}

const inspect = `(() => {
  const w = document.documentElement.clientWidth;
  const over = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 0.5) over.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className : '') + ' right=' + Math.round(r.right));
  }
  const ext = [];
  // A reference with a scheme or host of its own leaves the page; a relative one does not.
  const off = v => v && /^([a-z][a-z0-9+.-]*:|\/\/)/i.test(v.trim()) && !/^(data|about):/i.test(v.trim());
  for (const el of document.querySelectorAll('[src],[href]')) {
    for (const a of ['src', 'href']) { const v = el.getAttribute(a); if (el.hasAttribute(a) && off(v)) ext.push(a + '=' + v); }
  }
  for (const s of document.querySelectorAll('style')) { if (/url\(|@import/.test(s.textContent)) ext.push('css: ' + s.textContent.match(/url\([^)]*\)|@import[^;]*/)[0]); }
  const first = document.querySelector('main section');
  return {over: over.slice(0, 20), ext, first: first ? first.id : '', width: document.documentElement.scrollWidth, text: document.body.innerText};
})()`

// Load opens url in a fresh headless Chromium 1280 pixels wide, and takes a
// screenshot of the first element each of the selectors matches.
func Load(t *testing.T, url string, selectors ...string) Page {
	t.Helper()
	execPath := Exec(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(Width, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	var (
		mu sync.Mutex
		p  Page
	)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value))
				}
				p.ConsoleErrors = append(p.ConsoleErrors, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			p.ConsoleErrors = append(p.ConsoleErrors, e.ExceptionDetails.Text)
		}
	}))
	defer cancel()
	stop := time.AfterFunc(3*time.Minute, cancel) // two cores shared by the whole test suite
	defer stop.Stop()
	type result struct {
		Over  []string `json:"over"`
		Ext   []string `json:"ext"`
		First string   `json:"first"`
		Width int      `json:"width"`
		Text  string   `json:"text"`
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("chromium: load %s: %v", url, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[result](inspect))
	if err != nil {
		t.Fatalf("chromium: inspect %s: %v", url, err)
	}
	top, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("chromium: screenshot %s: %v", url, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: screenshot %s: %v", url, err)
	}
	p.FirstScreen, p.Elements = top, map[string][]byte{}
	for _, sel := range selectors {
		b, err := chromedp.Run(ctx, chromedp.Screenshot(sel))
		if err != nil {
			t.Fatalf("chromium: screenshot of %s: %v", sel, err)
		}
		p.Elements[sel] = b
	}
	mu.Lock()
	defer mu.Unlock()
	p.FirstSection, p.Overflowing, p.DocumentWidth, p.ExternalRefs, p.Text, p.Screenshot = res.First, res.Over, res.Width, res.Ext, res.Text, shot
	return p
}

// Save writes the screenshots into the test's output folder (go test
// -artifacts keeps it): name.png, the full page, and name-first-screen.png.
func (p Page) Save(t *testing.T, name string) {
	t.Helper()
	files := map[string][]byte{name + ".png": p.Screenshot, name + "-first-screen.png": p.FirstScreen}
	i := 0
	for _, b := range p.Elements {
		i++
		files[fmt.Sprintf("%s-element-%d.png", name, i)] = b
	}
	for file, b := range files {
		path := filepath.Join(t.ArtifactDir(), file)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}

// Check fails the test for what a person would call broken: console
// errors, a first section other than want, anything wider than the window,
// or a reference off the page.
func (p Page) Check(t *testing.T, wantFirst string) {
	t.Helper()
	if len(p.ConsoleErrors) > 0 {
		t.Errorf("console errors: %q", p.ConsoleErrors)
	}
	if p.FirstSection != wantFirst {
		t.Errorf("first section is %q, want %q", p.FirstSection, wantFirst)
	}
	if p.DocumentWidth > Width || len(p.Overflowing) > 0 {
		t.Errorf("page is %d px wide at %d px; overflowing: %q", p.DocumentWidth, Width, p.Overflowing)
	}
	if len(p.ExternalRefs) > 0 {
		t.Errorf("page refers off itself: %q", p.ExternalRefs)
	}
}
