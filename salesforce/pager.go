package salesforce

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// nextPage is where a page's successor is: at a URL the page gave
// (nextRecordsUrl), or at the same path with other query values (the
// page-numbered Connect collections).
type nextPage struct {
	url   string     // followed only on the API host, under /services/data/ (resolveNext)
	query url.Values // used when url is ""
}

// same reports whether two next pages are the same request.
func (p *nextPage) same(o *nextPage) bool {
	return p.url == o.url && p.query.Encode() == o.query.Encode()
}

// pageReader reads one page's body, decoding it as it streams in. n counts
// the pages from 1. It returns where the next page is, or nil when this page
// was the last. Its errors are returned unwrapped: it names the page itself.
type pageReader func(n int, body io.Reader) (*nextPage, error)

// aheadReader is a pageReader that may learn the next page before it has
// read the whole body (a SOQL page names nextRecordsUrl before its records).
// It then calls ahead with it, at most once a page, and the walk requests
// that page while the reader goes on decoding this one.
type aheadReader func(n int, body io.Reader, ahead func(*nextPage)) (*nextPage, error)

// walkPages is the client's one pager: every paged resource (SOQL cursors,
// the External Client App collections) is read through it. It fetches first,
// hands each 2xx body to read, and follows what read returns until read
// returns nil. Each page goes through do, so retries, the request-limit
// block and the body bound apply to every page. A next URL is followed only
// when resolveNext accepts it, so the bearer token never leaves the org.
// maxPages > 0 bounds the walk: a resource that is still paging after
// maxPages pages is an error wrapping ErrNoLastPage. Request and next-URL errors are wrapped with
// what. It returns the number of pages fetched.
func (c *Client) walkPages(ctx context.Context, first request, what string, maxPages int, read pageReader) (int, error) {
	return c.walk(ctx, first, what, maxPages, func(n int, body io.Reader, _ func(*nextPage)) (*nextPage, error) {
		return read(n, body)
	})
}

// walk is walkPages for a reader that may name the next page early
// (aheadReader): that page is then requested while the current one is
// decoded, so a cursor's decode time overlaps the next request's latency
// instead of adding to it. At most one request runs ahead, and only within
// maxPages. A page requested ahead is used only when the reader's answer
// names the same page; otherwise, or when the walk ends first (an error, a
// consumer that stopped), it is cancelled and its body closed. A request
// made ahead and then not needed costs one API call: readers that stop
// early should not name pages ahead.
func (c *Client) walk(ctx context.Context, first request, what string, maxPages int, read aheadReader) (int, error) {
	r := first
	var pending *aheadPage
	defer func() { pending.discard() }()
	for pages := 0; ; {
		if maxPages > 0 && pages >= maxPages {
			return pages, fmt.Errorf("%s: %w after %d pages", what, ErrNoLastPage, maxPages)
		}
		var resp *http.Response
		var err error
		if pending != nil {
			resp, err = pending.wait()
			pending = nil
		} else {
			resp, err = c.do(ctx, r)
		}
		if err != nil {
			return pages, fmt.Errorf("%s: %w", what, err)
		}
		pages++
		ahead := func(next *nextPage) {
			if pending != nil || next == nil || (maxPages > 0 && pages >= maxPages) {
				return // one ahead at a time, and none past the bound
			}
			nr, err := c.nextRequest(r, next)
			if err != nil {
				return // refused again, and reported, when read returns it
			}
			pending = c.fetchAhead(ctx, nr, next)
		}
		next, err := read(pages, resp.Body, ahead)
		resp.Body.Close()
		if err != nil {
			return pages, err
		}
		if next == nil {
			return pages, nil
		}
		if pending != nil && !pending.next.same(next) {
			pending.discard()
			pending = nil
		}
		r, err = c.nextRequest(r, next)
		if err != nil {
			return pages, fmt.Errorf("%s: %w", what, err)
		}
	}
}

// nextRequest is the request for the page after r.
func (c *Client) nextRequest(r request, next *nextPage) (request, error) {
	if next.url == "" {
		r.query = next.query
		return r, nil
	}
	var err error
	r.path, r.query, err = c.resolveNext(next.url)
	return r, err
}

// aheadPage is a page requested before the walk reached it.
type aheadPage struct {
	next   *nextPage
	cancel context.CancelFunc
	done   chan struct{}
	resp   *http.Response
	err    error
}

func (c *Client) fetchAhead(ctx context.Context, r request, next *nextPage) *aheadPage {
	ctx, cancel := context.WithCancel(ctx)
	p := &aheadPage{next: next, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		// The body is closed by whoever takes the page: the walk, after
		// reading it, or discard.
		p.resp, p.err = c.do(ctx, r) //nolint:bodyclose // closed by the walk or by discard
	}()
	return p
}

// wait returns the page's response. The body stays readable until it is
// closed: the request's context ends only with the walk's.
func (p *aheadPage) wait() (*http.Response, error) {
	<-p.done
	if p.err != nil {
		p.cancel()
		return nil, p.err
	}
	p.resp.Body = &cancelOnClose{ReadCloser: p.resp.Body, cancel: p.cancel}
	return p.resp, nil
}

// discard cancels a page no longer wanted and closes its body. It is a no-op
// on nil.
func (p *aheadPage) discard() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
	if p.resp != nil {
		p.resp.Body.Close()
	}
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
