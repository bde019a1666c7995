package refresh

import (
	"cmp"
	"reflect"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// detection is the org's stolen-token tracker (detect.Tracker): the network
// and object baseline of each app, fed by the api_usage and logins sources
// and kept in the state file.
type detection struct {
	tr      *detect.Tracker
	cfg     detect.Config
	ioc     *detect.IOCSet
	iocDone bool // ioc is the tracker's
	// declFrom is the settings whose declarations the tracker holds.
	declFrom *Settings
	// reset is set when the first sync started the baseline from nothing
	// (snapshot.DetectionReset): what the org's memory lost, and why.
	reset snapshot.DetectionReset
}

// syncDetection makes the tracker match the settings in force: at the first
// call it restores the baseline from the state (or starts fresh, with a log
// line, when the state can't be read); on a reload it takes the new IOC lists,
// and re-encodes the baseline when the grouping or caps changed.
func (r *Refresher) syncDetection() {
	set := r.settings.Load()
	cfg := set.Detection.WithDefaults()
	d := &r.detect
	switch {
	case d.tr == nil:
		var reason string
		d.tr, reason = r.restoreTracker(cfg, r.state.Detection)
		if reason != "" {
			// A state file set aside had a baseline: that is what was lost.
			d.reset = snapshot.DetectionReset{At: r.now(), Reason: cmp.Or(r.state.fresh, reason)}
		}
	case !reflect.DeepEqual(cfg, d.cfg):
		b, err := d.tr.MarshalBinary()
		if err != nil {
			r.logger.Error("Could not encode the detection baseline to apply the new detection settings; starting it fresh", "err", err)
			b = nil
		}
		d.tr, _ = r.restoreTracker(cfg, b)
		d.iocDone = false
		d.declFrom = nil
		r.dirty = true
	}
	d.cfg = cfg
	if !d.iocDone || d.ioc != set.IOC {
		d.tr.SetIOC(set.IOC)
		d.ioc, d.iocDone = set.IOC, true
	}
	if d.declFrom != set {
		var decls []detect.Declared
		if set.Declared != nil {
			decls = set.Declared(r.org.Name)
		}
		if err := d.tr.SetDeclared(decls); err != nil {
			// The config package checks the declarations as it loads the
			// file; only a programming error gets here.
			r.logger.Error("The inventory's declared networks and objects are invalid; keeping the ones in force", "err", err)
		}
		d.declFrom = set
	}
}

// restoreTracker restores the baseline from state, or starts it fresh; it
// says why it started fresh (snapshot.DetectionResetNoState when there was no
// baseline to restore, DetectionResetUnreadable when it could not be read),
// or "" when it restored one.
func (r *Refresher) restoreTracker(cfg detect.Config, state []byte) (*detect.Tracker, string) {
	reason := snapshot.DetectionResetNoState
	if len(state) > 0 {
		tr, note, err := detect.Restore(cfg, state)
		if err == nil {
			if note != "" {
				r.logger.Warn("Detection baseline restored with a change", "note", note)
			}
			if n := tr.ClampFuture(r.now()); n > 0 {
				r.logger.Warn("The detection baseline holds times in the future (a clock that ran ahead, or an edit): they count from now", "times", n)
				r.dirty = !r.noWrite()
			}
			return tr, ""
		}
		reason = snapshot.DetectionResetUnreadable
		r.logger.Error("Detection baseline in the state file is unreadable; starting it fresh (nothing counts as new until min_baseline has passed)", "err", err)
	}
	tr, err := detect.New(cfg)
	if err != nil {
		// The config package validates the section; only a programming
		// error gets here.
		r.logger.Error("Detection settings are invalid; using the defaults", "err", err)
		tr, _ = detect.New(detect.Config{})
	}
	return tr, reason
}

// saveDetection puts the baseline into the state before it is written.
func (r *Refresher) saveDetection() {
	if r.detect.tr == nil {
		return
	}
	b, err := r.detect.tr.MarshalBinary()
	if err != nil {
		r.logger.Error("Could not encode the detection baseline; the state file keeps the previous one", "err", err)
		return
	}
	r.state.Detection = b
}
