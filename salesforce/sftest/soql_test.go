package sftest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// runQuery runs SOQL against a fresh server, authenticated, and returns the
// status and body.
func runQuery(t *testing.T, org *Org, soql string) (int, string) {
	t.Helper()
	return runGet(t, org, "/services/data/v66.0/query?q="+url.QueryEscape(soql))
}

// runGet GETs path from a fresh server, authenticated, and returns the
// status and body.
func runGet(t *testing.T, org *Org, path string) (int, string) {
	t.Helper()
	_, ts := Start(t, org, TestCredentials)
	resp, err := http.PostForm(ts.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {TestCredentials.ClientID}, "client_secret": {TestCredentials.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   *int   `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.ExpiresIn != nil {
		t.Fatal("the token response has expires_in; Salesforce's has none")
	}
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSOQLErrorsAreSalesforces(t *testing.T) {
	t.Parallel()
	org := NewOrg()
	org.AddApp(App{Name: "A", Installed: true})
	cases := []struct {
		soql, code, msg string
	}{
		{"SELECT Id FROM Widget__c", "INVALID_TYPE", "sObject type 'Widget__c' is not supported"},
		{"SELECT Foo FROM OauthToken", "INVALID_FIELD", "No such column 'Foo' on entity 'OauthToken'"},
		{"SELECT Id FROM LoginHistory WHERE Status = 'Success'", "INVALID_FIELD", "field 'Status' can not be filtered in query call"},
		{"SELECT AppName FROM OauthToken GROUP BY AppName", "MALFORMED_QUERY", "Aggregate queries are not supported"},
		{"SELECT Id FROM User WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"},
		{"SELECT Id, FROM User", "MALFORMED_QUERY", "unexpected token: 'FROM'"},
		{"SELECT COUNT() FROM User ORDER BY Id", "MALFORMED_QUERY", "COUNT() must be the only element"},
		{"SELECT Bad.Field FROM OauthToken", "INVALID_FIELD", "Didn't understand relationship 'Bad'"},
	}
	for _, tc := range cases {
		status, body := runQuery(t, org, tc.soql)
		var errs []map[string]string
		if status != 400 || json.Unmarshal([]byte(body), &errs) != nil || len(errs) != 1 || errs[0]["errorCode"] != tc.code || !strings.Contains(errs[0]["message"], tc.msg) {
			t.Errorf("%s: %d %s; want 400 %s %q", tc.soql, status, body, tc.code, tc.msg)
		}
	}
	org.Behavior.OauthTokenAggregates = true
	if status, body := runQuery(t, org, "SELECT AppName, COUNT(CreatedDate) FROM OauthToken GROUP BY LastUsedDate"); status != 400 || !strings.Contains(body, "can not be grouped") {
		t.Errorf("GROUP BY a non-groupable field: %d %s", status, body)
	}
}

func TestShapes(t *testing.T) {
	t.Parallel()
	org := NewOrg()
	a := org.AddApp(App{Name: "A", Installed: false})
	u := org.AddUser("u@example.com", false)
	org.AddToken(TokenSpec{User: u, App: a})
	_, body := runQuery(t, org, "SELECT Id, AppName, AppMenuItemId, User.IsActive, AppMenuItem.ApplicationId, CreatedDate, LastUsedDate FROM OauthToken")
	for _, want := range []string{`"Id":"0CQ`, `"AppMenuItemId":null`, `"User":{"attributes":{"type":"User","url":"/services/data/v66.0/sobjects/User/`, `"IsActive":false}`, `"AppMenuItem":null`, `+0000"`, `"LastUsedDate":null`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
	// The object reference's null Id, behind its switch.
	org.Behavior.NullOauthTokenIDs = true
	if _, body := runQuery(t, org, "SELECT Id FROM OauthToken"); !strings.Contains(body, `"Id":null`) {
		t.Errorf("NullOauthTokenIDs: %s", body)
	}
	org.Behavior.OauthTokenAggregates = true
	_, body = runQuery(t, org, "SELECT AppName, COUNT(CreatedDate), COUNT_DISTINCT(UserId) users FROM OauthToken GROUP BY AppName")
	if !strings.Contains(body, `{"attributes":{"type":"AggregateResult"},"AppName":"A","expr0":1,"users":1}`) {
		t.Errorf("aggregate shape: %s", body)
	}
}
