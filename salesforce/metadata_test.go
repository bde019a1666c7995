package salesforce_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// Without Modify Metadata Through Metadata API Functions or Modify All
// Data, the Metadata API answers a fault: its code comes back as an
// *APIError that reads as a refused object, and the session never shows.
func TestMetadataWithoutPermissionIsFault(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	_, calls, err := c.AppMetadata(t.Context())
	var apiErr *salesforce.APIError
	if !errors.As(err, &apiErr) || apiErr.Code() != "INSUFFICIENT_ACCESS" || !salesforce.IsObjectRefused(err) {
		t.Fatalf("err = %v, want an INSUFFICIENT_ACCESS fault", err)
	}
	if calls != 1 {
		t.Errorf("calls = %d, want the one list call", calls)
	}
	if s, serr := c.Session(t.Context()); serr != nil || strings.Contains(err.Error(), s.AccessToken) {
		t.Errorf("the error shows the session: %v", err)
	}
}

// With the permission, every connected app's scopes and IP relaxation are
// read, ten full names a call; a packaged app by its namespaced name, an
// app without OAuth settings as such; the consumer key is not kept;
// External Client Apps are not ConnectedApps.
func TestMetadataReadsScopesInBatches(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	org.SetPermission(sftest.PermModifyMetadata, true)
	org.UpdateApp(1, func(a *sftest.App) {
		a.Scopes, a.IPRelaxation, a.Namespace = []string{"Full", "RefreshToken"}, "BYPASS", "dl"
	})
	org.AddApp(sftest.App{Name: "SAML Only", Installed: true, NoOAuthConfig: true})
	for i := range 12 {
		org.AddApp(sftest.App{Name: fmt.Sprintf("Filler %d", i), Installed: true})
	}
	org.AddECA(sftest.ECASpec{Name: "Some ECA", DeveloperName: "Some_ECA"})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	apps, calls, err := c.AppMetadata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := len(org.Apps()) - 1 // not the ECA
	if len(apps) != want {
		t.Fatalf("read %d apps, want %d", len(apps), want)
	}
	if wantCalls := 1 + (want+9)/10; calls != wantCalls {
		t.Errorf("calls = %d, want %d (a list, then ten names a read)", calls, wantCalls)
	}
	by := map[string]salesforce.AppMetadata{}
	for _, a := range apps {
		by[a.FullName] = a
	}
	dl, ok := by["dl__Data_Loader"]
	if !ok || !dl.HasOAuth || !slices.Equal(dl.Scopes, []string{"Full", "RefreshToken"}) || dl.IPRelaxation != "BYPASS" || dl.ID != org.Apps()[1].ID {
		t.Errorf("the packaged app read as %+v", dl)
	}
	if saml := by["SAML_Only"]; saml.HasOAuth || saml.Scopes != nil || saml.IPRelaxation != "" {
		t.Errorf("an app without OAuth settings read as %+v", saml)
	}
	if mob := by["Salesforce_Mobile_App"]; !slices.Equal(mob.Scopes, []string{"Api", "RefreshToken"}) || mob.IPRelaxation != "ENFORCE" {
		t.Errorf("a default app read as %+v", mob)
	}
	for _, a := range apps {
		if strings.Contains(fmt.Sprint(a), "3MVG9") {
			t.Errorf("the consumer key was kept: %+v", a)
		}
	}
}

// An expired session is a SOAP fault (INVALID_SESSION_ID, HTTP 500), not
// a 401: the client logs in again once and the call goes through.
func TestMetadataExpiredSessionLogsInAgain(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	org.SetPermission(sftest.PermModifyMetadata, true)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	if _, _, err := c.AppMetadata(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := srv.Requests()["token"]
	srv.ExpireSessions()
	apps, _, err := c.AppMetadata(t.Context())
	if err != nil || len(apps) != len(org.Apps()) {
		t.Fatalf("after the session expired: %d apps, %v", len(apps), err)
	}
	if got := srv.Requests()["token"] - before; got != 1 {
		t.Errorf("%d logins after the session expired, want 1", got)
	}
}
