package salesforce_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// An inactive, expired or revoked permission set assignment grants nothing:
// the effective permissions are the profile's alone.
func TestPermissionsIgnoreAssignmentsNotInForce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state, version string
		policies       bool
	}{
		{sftest.AssignmentInactive, "66.0", false},
		{sftest.AssignmentExpired, "66.0", false},
		{sftest.AssignmentRevoked, "66.0", true},
		{sftest.AssignmentRevoked, "57.0", true},
	} {
		t.Run(tc.state+"-v"+tc.version, func(t *testing.T) {
			t.Parallel()
			org := smallOrg()
			org.Behavior.UserAccessPolicies = tc.policies
			// Assign Permission Sets comes with the profile here, so the
			// assignments stay readable whatever the permission set's state.
			org.SetPermission(sftest.PermAssignPermissionSets, true)
			_, ts := sftest.Start(t, org, sftest.TestCredentials)
			c := newClient(t, ts.URL, salesforce.WithAPIVersion(tc.version))
			p, err := c.Permissions(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !p.CustomizeApplication || !p.ManageUsers || p.NotInForce != 0 {
				t.Fatalf("assignment in force read as %+v", p)
			}
			org.SetAssignment(tc.state)
			if p, err = c.Permissions(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !p.APIEnabled || p.CustomizeApplication || p.ManageUsers || p.ViewSetup || p.ViewEventLogFiles || p.Assignments != 2 || p.NotInForce != 1 {
				t.Fatalf("%s assignment read as %+v; want API Enabled only, one of two assignments not in force", tc.state, p)
			}
		})
	}
}

// IsRevoked exists only in orgs with user access policies: elsewhere the
// read goes on without it; below API 52.0 none of the state fields exist.
func TestPermissionsWithoutStateFields(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"66.0", "51.0"} {
		org := smallOrg()
		srv, ts := sftest.Start(t, org, sftest.TestCredentials)
		c := newClient(t, ts.URL, salesforce.WithAPIVersion(v))
		p, err := c.Permissions(t.Context())
		if err != nil {
			t.Fatalf("v%s: %v", v, err)
		}
		if !p.CustomizeApplication || p.Assignments != 2 {
			t.Fatalf("v%s: read as %+v", v, p)
		}
		// The refused field is not asked for again: one query a read.
		before := srv.Requests()["query:PermissionSetAssignment"]
		if _, err := c.Permissions(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := srv.Requests()["query:PermissionSetAssignment"] - before; n != 1 {
			t.Errorf("v%s: %d queries for the second read, want 1", v, n)
		}
	}
}

// Without View Setup and Configuration, Assign Permission Sets and Manage
// Users the org hides PermissionSetAssignment: the permissions are unknown,
// and the error says what to grant.
func TestPermissionsUnreadable(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	org.SetPermission(sftest.PermViewSetup, false)
	org.SetPermission(sftest.PermManageUsers, false)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	_, err := c.Permissions(t.Context())
	if !errors.Is(err, salesforce.ErrPermissionsUnreadable) {
		t.Fatalf("err = %v, want ErrPermissionsUnreadable", err)
	}
	for _, want := range []string{"View Setup and Configuration", "Assign Permission Sets", "Manage Users"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
	// Any one of the three opens it again.
	org.SetPermission(sftest.PermAssignPermissionSets, true)
	if _, err := c.Permissions(t.Context()); err != nil {
		t.Fatalf("with Assign Permission Sets: %v", err)
	}
}

// View All Data also opens EventLogFile and every User record.
func TestPermissionsViewAllData(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	org.SetPermission(sftest.PermViewEventLogFiles, false)
	org.SetPermission(sftest.PermViewAllUsers, false)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	p, err := c.Permissions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.ReadsEventLogFiles() || p.SeesAllUsers() {
		t.Fatalf("without View Event Log Files, View All Users and View All Data: %+v", p)
	}
	org.SetPermission(sftest.PermViewAllData, true)
	if p, err = c.Permissions(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !p.ReadsEventLogFiles() || !p.SeesAllUsers() {
		t.Fatalf("with View All Data: %+v", p)
	}
}
