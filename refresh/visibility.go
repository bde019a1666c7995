package refresh

import (
	"context"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// visibilityEvery is how often a source re-reads the running user's
// permissions: a permission set change is rare, and each read is a request.
const visibilityEvery = time.Hour

// visibilityCheck tells whether a source whose object silently shrinks to
// the running user's own rows (LoginHistory, AuthSession) sees every user's.
// It reads the user's permissions at most hourly. An error reading them
// (no identity URL, PermissionSetAssignment not readable) leaves the answer
// unknown and never fails the source.
type visibilityCheck struct {
	checked time.Time
	known   bool
	limited bool
	logged  bool // the missing permission was logged
}

// update re-reads the permissions when due. sees says whether they show
// every user's rows; missing names the permission that would.
func (v *visibilityCheck) update(ctx context.Context, e *env, now time.Time, source, missing string, sees func(salesforce.UserPermissions) bool) {
	// The org's clock is known to the second and may step back a little;
	// only a clock set back by more than a minute re-reads early.
	if !v.checked.IsZero() && now.Sub(v.checked) < visibilityEvery && now.After(v.checked.Add(-time.Minute)) {
		return
	}
	v.checked = now
	p, err := e.client.Permissions(ctx)
	if err != nil {
		if v.known {
			e.logger.Info("Could not read the integration user's permissions; visibility of the source is unknown", "data_source", source, "err", err)
		}
		v.known = false
		return
	}
	v.known, v.limited = true, !sees(p)
	switch {
	case v.limited && !v.logged:
		v.logged = true
		e.logger.Warn("The integration user sees only its own rows of this source; grant the permission to see every user's", "data_source", source, "missing_permission", missing)
	case !v.limited && v.logged:
		v.logged = false
		e.logger.Info("The integration user now sees every user's rows of this source", "data_source", source)
	}
}

// add records the answer, when known, in p.Visibility under source.
func (v *visibilityCheck) add(p *parts, source, missing string) {
	if !v.known {
		return
	}
	if p.Visibility == nil {
		p.Visibility = map[string]Visibility{}
	}
	vis := Visibility{Limited: v.limited}
	if v.limited {
		vis.Missing = missing
	}
	p.Visibility[source] = vis
}
