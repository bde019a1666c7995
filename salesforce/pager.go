package salesforce

import (
	"context"
	"fmt"
	"io"
	"net/url"
)

// nextPage is where a page's successor is: at a URL the page gave
// (nextRecordsUrl), or at the same path with other query values (the
// page-numbered Connect collections).
type nextPage struct {
	url   string     // followed only on the API host, under /services/data/ (resolveNext)
	query url.Values // used when url is ""
}

// pageReader reads one page's body, decoding it as it streams in. n counts
// the pages from 1. It returns where the next page is, or nil when this page
// was the last. Its errors are returned unwrapped: it names the page itself.
type pageReader func(n int, body io.Reader) (*nextPage, error)

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
	r := first
	for pages := 0; ; {
		if maxPages > 0 && pages >= maxPages {
			return pages, fmt.Errorf("%s: %w after %d pages", what, ErrNoLastPage, maxPages)
		}
		resp, err := c.do(ctx, r)
		if err != nil {
			return pages, fmt.Errorf("%s: %w", what, err)
		}
		pages++
		next, err := read(pages, resp.Body)
		resp.Body.Close()
		if err != nil {
			return pages, err
		}
		if next == nil {
			return pages, nil
		}
		if next.url == "" {
			r.query = next.query
			continue
		}
		r.path, r.query, err = c.resolveNext(next.url)
		if err != nil {
			return pages, fmt.Errorf("%s: %w", what, err)
		}
	}
}
