package salesforce_test

import (
	"errors"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// AppPolicies reads each connected app's refresh token policy, permitted
// users and session level; a token valid until revoked has no period.
func TestPostureAppPolicies(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	org.UpdateApp(1, func(a *sftest.App) {
		a.RefreshIdle, a.RefreshPeriod, a.AdminApproved, a.HighAssurance = true, 30, true, true
	})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	pols, err := c.AppPolicies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(pols) != 2 {
		t.Fatalf("read %d policies, want the 2 installed apps'", len(pols))
	}
	byName := map[string]salesforce.AppPolicy{}
	for _, p := range pols {
		byName[p.Name] = p
	}
	open, idle := byName["Salesforce Mobile App"], byName["Data Loader"]
	if open.RefreshPeriod != nil || open.AdminApprovedOnly == nil || *open.AdminApprovedOnly || open.RefreshByInactivity == nil || *open.RefreshByInactivity {
		t.Errorf("an open app valid until revoked read as %+v", open)
	}
	if idle.RefreshPeriod == nil || *idle.RefreshPeriod != 30 || !*idle.RefreshByInactivity || !*idle.AdminApprovedOnly || !*idle.HighAssurance {
		t.Errorf("an admin-approved app with a 30-unit idle expiry read as %+v", idle)
	}
}

// The blast radius reads the token holders' permissions in chunks of at
// most 200 ids: assignments not in force grant nothing, and the profile's
// API Enabled counts.
func TestPostureUserPermissionSetsChunked(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	var ids []string
	admin := org.AddUser("admin@example.com", true)
	org.GrantUser(admin, "", sftest.PermModifyAllData, sftest.PermAuthorApex)
	expired := org.AddUser("former-admin@example.com", true)
	org.GrantUser(expired, sftest.AssignmentExpired, sftest.PermModifyAllData)
	for i := range 450 {
		u := org.AddUser("bulk"+string(rune('a'+i%26))+"@example.com", true)
		if i == 420 {
			org.GrantUser(u, "", sftest.PermViewAllData)
		}
		ids = append(ids, org.Users()[u].ID)
	}
	users := org.Users()
	ids = append(ids, users[admin].ID, users[expired].ID)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	perms, calls, err := c.UserPermissionSets(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("%d ids read in %d queries, want 3 of at most 200", len(ids), calls)
	}
	bit := func(p string) uint8 {
		for i, q := range salesforce.BlastPermissions {
			if q == p {
				return 1 << i
			}
		}
		t.Fatalf("no permission %s", p)
		return 0
	}
	key := func(u int) string { return salesforce.ID(users[u].ID).Key() }
	if got := perms[key(admin)]; got&bit(salesforce.PermModifyAllData) == 0 || got&bit(salesforce.PermAuthorApex) == 0 {
		t.Errorf("admin's permissions read as %08b", got)
	}
	if got := perms[key(expired)]; got&bit(salesforce.PermModifyAllData) != 0 {
		t.Errorf("an expired assignment granted Modify All Data: %08b", got)
	}
	viewAll := 0
	for _, bits := range perms {
		if bits&bit(salesforce.PermViewAllData) != 0 {
			viewAll++
		}
	}
	if viewAll != 1 {
		t.Errorf("%d users read with View All Data, want the one granted it", viewAll)
	}
}

// A bypass permission's field exists only where its feature is on: without
// it the count is ErrPermissionFieldAbsent, never zero.
func TestPosturePermissionHolders(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	a := org.AddUser("a@example.com", true)
	b := org.AddUser("b@example.com", true)
	gone := org.AddUser("gone@example.com", false)
	org.GrantUser(a, "", sftest.PermUseAnyAPIClient)
	org.GrantUser(a, "", sftest.PermUseAnyAPIClient)
	org.GrantUser(b, sftest.AssignmentInactive, sftest.PermUseAnyAPIClient)
	org.GrantUser(gone, "", sftest.PermUseAnyAPIClient)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	if n, err := c.PermissionHolders(t.Context(), salesforce.PermUseAnyAPIClient); !errors.Is(err, salesforce.ErrPermissionFieldAbsent) {
		t.Fatalf("without API Access Control: %d, %v; want ErrPermissionFieldAbsent", n, err)
	}
	org.Behavior.APIAccessControl = true
	n, err := c.PermissionHolders(t.Context(), salesforce.PermUseAnyAPIClient)
	if err != nil || n != 1 {
		t.Fatalf("holders = %d, %v; want 1 (one active user with an assignment in force)", n, err)
	}
}
