package main

// The floor of a full sync on this machine: the same number of requests,
// as many at once as the client keeps cursors open, each answered with a
// real 500-row token page (taken once from the fake org, gzipped once)
// after the bench latency, read and thrown away without decoding. It pays
// the latency and the transport, and nothing of the fake's work (a real org
// does that on its own machines) or of the client's (decoding,
// partitioning, waiting on a cursor's previous page).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// syncFloor takes one token page from the fake org at base, serves it from
// a loopback server of its own with the bench latency, and times calls
// requests to it, parallel at a time.
func syncFloor(ctx context.Context, base string, calls, parallel int) (time.Duration, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}, Timeout: 5 * time.Minute}
	token, err := floorToken(ctx, hc, base)
	if err != nil {
		return 0, err
	}
	soql := "SELECT Id, AppName, AppMenuItemId, UserId, User.IsActive, CreatedDate, LastUsedDate, UseCount FROM OauthToken ORDER BY CreatedDate ASC LIMIT 500"
	page, err := floorGet(ctx, hc, base+"/services/data/v66.0/query?q="+url.QueryEscape(soql), token)
	if err != nil {
		return 0, err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	_, _ = zw.Write(page)
	_ = zw.Close()
	body := gz.Bytes()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(body)
	})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	static := "http://" + ln.Addr().String() + "/services/data/v66.0/query/page"

	next := make(chan int)
	errs := make(chan error, parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if _, err := floorGet(ctx, hc, static, token); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range calls {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			return 0, err
		}
	}
	close(next)
	wg.Wait()
	took := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return took, nil
}

func floorToken(ctx context.Context, hc *http.Client, base string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sftest.TestCredentials.ClientID}, "client_secret": {sftest.TestCredentials.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return "", fmt.Errorf("floor: token: status %d: %w", resp.StatusCode, err)
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("floor: token: status %d, no access_token", resp.StatusCode)
	}
	return tok.AccessToken, nil
}

func floorGet(ctx context.Context, hc *http.Client, u, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || len(b) < 1000 {
		return nil, fmt.Errorf("floor: query answered %d with %d bytes", resp.StatusCode, len(b))
	}
	return b, nil
}

// syncFloorLive is the floor with the fake org's own work in it: every live
// token read once from the fake org, by parallel workers, in CreatedDate
// ranges cut where the org's distribution (known to the bench, never to a
// client) puts at most one cursor's cap of rows; each range's pages are
// followed by their nextRecordsUrl and thrown away undecoded. It pays the
// latency, the transport and the fake's rendering and gzip on this
// machine's cores, with perfect partitioning and no client work: what the
// sync cannot beat here.
func syncFloorLive(ctx context.Context, org *sftest.Org, base string, parallel int) (time.Duration, int, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}, Timeout: 5 * time.Minute}
	token, err := floorToken(ctx, hc, base)
	if err != nil {
		return 0, 0, err
	}
	return readCapRanges(org, parallel, func(soql string) (int, error) {
		calls := 0
		for u := base + "/services/data/v66.0/query?q=" + url.QueryEscape(soql); u != ""; {
			calls++
			nextURL, err := floorPage(ctx, hc, u, token)
			if err != nil {
				return calls, err
			}
			u = ""
			if nextURL != "" {
				u = base + nextURL
			}
		}
		return calls, nil
	})
}

// readCapRanges reads the org's live tokens in the ranges capRanges cuts
// (at most one cursor's cap of rows each, where the bench knows they are),
// parallel workers taking the next range as each finishes; read reads one
// range's query and returns what it counts (requests, rows). It returns the
// wall time and the sum of the counts.
func readCapRanges(org *sftest.Org, parallel int, read func(soql string) (int, error)) (time.Duration, int, error) {
	ranges := capRanges(org.LiveCreated(), salesforce.OauthTokenCursorCap)
	next := make(chan [2]int64)
	errs := make(chan error, parallel)
	var counted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				soql := "SELECT Id, AppName, AppMenuItemId, UserId, User.IsActive, CreatedDate, LastUsedDate, UseCount FROM OauthToken WHERE CreatedDate >= " +
					salesforce.SOQLTime(time.UnixMilli(r[0])) + " AND CreatedDate < " + salesforce.SOQLTime(time.UnixMilli(r[1])) + " ORDER BY CreatedDate ASC"
				n, err := read(soql)
				counted.Add(int64(n))
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, r := range ranges {
		select {
		case next <- r:
		case err := <-errs:
			close(next)
			wg.Wait()
			return 0, 0, err
		}
	}
	close(next)
	wg.Wait()
	took := time.Since(start)
	select {
	case err := <-errs:
		return 0, 0, err
	default:
	}
	return took, int(counted.Load()), nil
}

// capRanges cuts ascending millisecond times into [from, before) ranges of
// whole seconds (SOQL's datetime precision) holding at most capRows each,
// except where one second alone holds more.
func capRanges(created []int64, capRows int) [][2]int64 {
	var out [][2]int64
	sec := func(ms int64) int64 { return ms - ((ms%1000)+1000)%1000 }
	i := 0
	for i < len(created) {
		from := sec(created[i])
		j, last := i, i
		for j < len(created) {
			// Take the whole second starting at created[j].
			s := sec(created[j])
			k := j
			for k < len(created) && sec(created[k]) == s {
				k++
			}
			if k-i > capRows && j > i {
				break
			}
			j, last = k, k
		}
		out = append(out, [2]int64{from, sec(created[last-1]) + 1000})
		i = last
	}
	return out
}

// floorPage requests one gzipped page, finds its nextRecordsUrl (Salesforce
// writes it before the records) and discards the rest still compressed.
func floorPage(ctx context.Context, hc *http.Client, u, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", fmt.Errorf("floor: query answered %d: %s", resp.StatusCode, b)
	}
	br := bufio.NewReader(resp.Body)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return "", fmt.Errorf("floor: page not gzipped: %w", err)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(zr, head)
	head = head[:n]
	nextURL := ""
	if i := bytes.Index(head, []byte(`"nextRecordsUrl":"`)); i >= 0 {
		rest := head[i+len(`"nextRecordsUrl":"`):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			nextURL = string(rest[:j])
		}
	}
	_, err = io.Copy(io.Discard, br)
	return nextURL, err
}

// syncFloorDecoded is syncFloorLive with the client's decoding in it: the
// same ranges, cut where the org's distribution (known to the bench only)
// puts at most one cursor's cap of rows, read by parallel workers through
// the client's own query path (salesforce.Stream with ReadAhead), every row
// decoded into an OauthToken, as any client must; no COUNT(), no planning,
// no cursor bookkeeping. On this machine the decoding shares the cores with
// the fake org, as the sync's does.
func syncFloorDecoded(ctx context.Context, org *sftest.Org, c *salesforce.Client, parallel int) (time.Duration, int, error) {
	return readCapRanges(org, parallel, func(soql string) (int, error) {
		n := 0
		_, err := salesforce.Stream(ctx, c, soql, func(salesforce.OauthToken) bool { n++; return true }, salesforce.ReadAhead())
		return n, err
	})
}
