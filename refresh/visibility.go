package refresh

import (
	"context"
	"errors"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// visibilityEvery is how often a source re-reads the running user's
// permissions: a permission set change is rare, and each read is a request.
const visibilityEvery = time.Hour

// visibilityCheck tells whether a source whose object silently shrinks to
// the running user's own rows (LoginHistory, AuthSession, OauthToken) sees
// every user's. It reads the user's permissions at most hourly. When they
// cannot be read (PermissionSetAssignment hidden, no identity URL) the
// answer is unverified, never full, and the source itself carries on. A
// passing error (a 5xx, a timeout) keeps the last answer and tries again at
// the next refresh; with no answer yet it is unverified too.
type visibilityCheck struct {
	checked    time.Time
	known      bool
	limited    bool
	unverified bool
	logged     bool // the missing permission was logged
	loggedRead bool // the unreadable permissions were logged
}

// permanentPermissionsError reports whether err says the permissions cannot
// be read at all, as opposed to a read that failed this time.
func permanentPermissionsError(err error) bool {
	return errors.Is(err, salesforce.ErrPermissionsUnreadable) || errors.Is(err, salesforce.ErrNoIdentity)
}

// update re-reads the permissions when due. The spec's SeesAll says whether
// they show every user's rows; its Missing names the permission that would.
func (v *visibilityCheck) update(ctx context.Context, e *env, now time.Time, spec *Spec) {
	source, missing := spec.Name, spec.Missing
	// The org's clock is known to the second and may step back a little;
	// only a clock set back by more than a minute re-reads early.
	if !v.checked.IsZero() && now.Sub(v.checked) < visibilityEvery && now.After(v.checked.Add(-time.Minute)) {
		return
	}
	p, err := e.client.Permissions(ctx)
	if err != nil {
		if !permanentPermissionsError(err) {
			// Try again at the next refresh; keep a known answer meanwhile.
			v.unverified = v.unverified || !v.known
			return
		}
		v.checked = now
		v.known, v.limited, v.unverified = false, false, true
		if !v.loggedRead {
			v.loggedRead = true
			e.logger.Warn("Could not read the integration user's permissions; the source's visibility is unverified (it may see only part of the org)", "data_source", source, "grant", salesforce.ReadPermissionsNeeds, "err", err)
		}
		return
	}
	v.checked = now
	v.known, v.limited, v.unverified = true, !spec.SeesAll(p), false
	if v.loggedRead {
		v.loggedRead = false
		e.logger.Info("The integration user's permissions are readable again", "data_source", source)
	}
	switch {
	case v.limited && !v.logged:
		v.logged = true
		e.logger.Warn("The integration user sees only its own rows of this source; grant the permission to see every user's", "data_source", source, "missing_permission", missing)
	case !v.limited && v.logged:
		v.logged = false
		e.logger.Info("The integration user now sees every user's rows of this source", "data_source", source)
	}
}

// visibility is the answer so far, and whether there is one.
func (v *visibilityCheck) visibility(missing string) (snapshot.Visibility, bool) {
	switch {
	case v.known && v.limited:
		return snapshot.Visibility{Limited: true, Missing: missing}, true
	case v.unverified:
		return snapshot.Visibility{Unverified: true, Missing: salesforce.ReadPermissionsNeeds}, true
	case v.known:
		return snapshot.Visibility{}, true
	}
	return snapshot.Visibility{}, false
}

// add records the answer, when there is one, in p.Visibility under the
// spec's source.
func (v *visibilityCheck) add(p *snapshot.Parts, spec *Spec) {
	vis, ok := v.visibility(spec.Missing)
	if !ok {
		return
	}
	p.SetVisibility(spec.Name, vis)
}
