package main

// The floor of a full sync on this machine: the same number of requests,
// as many at once as the client keeps cursors open, each a page of 500
// token rows from the same fake org, read and thrown away. It pays the
// latency, the fake's own work (on a two-core machine it shares the CPU
// with the client) and the transport, and nothing of the client's: no
// decoding, no partitioning, no waiting on a cursor's previous page.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// syncFloor makes calls requests, parallel at a time, each the first page
// of a token query starting at one of the org's tokens, and returns how
// long they took.
func syncFloor(ctx context.Context, base string, org *sftest.Org, calls, parallel int) (time.Duration, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 5 * time.Minute}
	token, err := floorToken(ctx, hc, base)
	if err != nil {
		return 0, err
	}
	// Start points spread over the tokens' CreatedDates, so each request
	// reads a full page as a sync's cursors do.
	first, last := org.Now().AddDate(-3, 0, 0), org.Now()
	span := last.Sub(first)
	next := make(chan int)
	errs := make(chan error, parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				from := first.Add(time.Duration(int64(span) / int64(calls) * int64(i)))
				soql := "SELECT Id, AppName, AppMenuItemId, UserId, User.IsActive, CreatedDate, LastUsedDate, UseCount FROM OauthToken WHERE CreatedDate >= " +
					salesforce.SOQLTime(from) + " ORDER BY CreatedDate ASC LIMIT 500"
				if err := floorGet(ctx, hc, base+"/services/data/v66.0/query?q="+url.QueryEscape(soql), token); err != nil {
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

func floorGet(ctx context.Context, hc *http.Client, u, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || n < 1000 {
		return fmt.Errorf("floor: query answered %d with %d bytes", resp.StatusCode, n)
	}
	return nil
}
