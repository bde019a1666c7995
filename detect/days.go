package detect

import "time"

// Every day is judged. The window figures (Figures) cover the 24 hours
// before the newest period ingested, so a Daily file that lands late, with
// or after the next day's, or several caught up at once, would never be in
// any window: an attack in it would show 0. Each period is therefore also
// judged once, as it is committed, against the baseline as it then stands,
// into counters that only grow: the requests of the period, those from
// networks new in it (once the app's baseline is ready), and those of them
// to sensitive objects. increase() over them sees every day, late or not.
//
// A day counts once whatever files cover it: a Daily file replaces its
// day's Hourly ones, a re-issued file its earlier issue, and a counter
// grows only by what a day's figures grew past what it already counted.
// The counters and the days they counted are kept in the state file
// (version 3, state_v3.go): a restart neither starts them at 0 nor counts a
// day again when its file is read again after it.
//
// The sensitive requests from new networks are also counted apart when the
// evidence corroborated them as the period was judged (corroborated): the
// late-day alert grades a late day as the window alerts grade the window
// (critical with corroboration, at any share; a warning without). The
// count is kept from state version 4.

// judgedFigs are one period's or one day's judged figures.
type judgedFigs struct {
	requests, fromNew, sensFromNew int64
	// corrSens is sensFromNew when the evidence corroborated it, else 0.
	corrSens int64
}

func (a judgedFigs) add(b judgedFigs) judgedFigs {
	return judgedFigs{a.requests + b.requests, a.fromNew + b.fromNew, a.sensFromNew + b.sensFromNew, a.corrSens + b.corrSens}
}

// appJudged is an app's counters and the days they have counted.
type appJudged struct {
	total judgedFigs
	days  map[int64]*dayJudged // by Unix day
}

type dayJudged struct {
	hourly  map[string]judgedFigs // by period key
	daily   *judgedFigs
	counted judgedFigs
}

// judgePeriod counts one committed period of an app. ready is whether the
// app's baseline was ready for the period's window when it was committed;
// newObjects whether the period held objects first seen in that window.
func (t *Tracker) judgePeriod(p *period, a *appState, pa *periodApp, ready, newObjects bool) {
	key := a.key
	f := judgedFigs{requests: pa.requests}
	if ready {
		sens := make([]int64, len(t.cfg.SensitiveObjects))
		for _, b := range pa.young {
			f.fromNew += b.requests
			for j, c := range b.sens {
				f.sensFromNew += c
				if j < len(sens) {
					sens[j] += c
				}
			}
		}
		if f.sensFromNew > 0 && t.corroborated(p, a, pa, f.fromNew, sens, newObjects) {
			f.corrSens = f.sensFromNew
		}
	}
	if t.judged == nil {
		t.judged = map[string]*appJudged{}
	}
	aj := t.judged[key]
	if aj == nil {
		aj = &appJudged{days: map[int64]*dayJudged{}}
		t.judged[key] = aj
	}
	day := p.start / 86400
	d := aj.days[day]
	if d == nil {
		d = &dayJudged{hourly: map[string]judgedFigs{}}
		aj.days[day] = d
	}
	if p.interval == "Hourly" {
		d.hourly[p.key] = f
	} else {
		d.daily = &f
	}
	var eff judgedFigs
	if d.daily != nil {
		eff = *d.daily
	} else {
		// An hour with an Hourly file counts the file, not the stream's
		// figures of that hour (see StreamFileID).
		periodOf := func(k string) *period {
			if k == p.key {
				return p
			}
			return t.periods[k]
		}
		files := map[int64]bool{}
		for k := range d.hourly {
			if q := periodOf(k); q != nil && q.fileID != StreamFileID {
				files[q.start] = true
			}
		}
		for k, h := range d.hourly {
			if q := periodOf(k); q != nil && q.fileID == StreamFileID && files[q.start] {
				continue
			}
			eff = eff.add(h)
		}
	}
	grow := func(counted *int64, total *int64, v int64) {
		if v > *counted {
			*total += v - *counted
			*counted = v
		}
	}
	grow(&d.counted.requests, &aj.total.requests, eff.requests)
	grow(&d.counted.fromNew, &aj.total.fromNew, eff.fromNew)
	grow(&d.counted.sensFromNew, &aj.total.sensFromNew, eff.sensFromNew)
	grow(&d.counted.corrSens, &aj.total.corrSens, eff.corrSens)
}

// corroborated reports whether the evidence corroborates a period's
// requests from new networks, judged as the window's are (grade.go: judge)
// against the app's usual figures as they stand for the period's window:
// objects first seen in it, a sensitive object's share of the requests from
// new networks SensitiveShareMargin above its usual share, requests from an
// IOC list's addresses, a surge (a Daily period's requests over SurgeFactor
// times the busiest usual day; an hour is never a surge), or requests from
// outside the networks the app's inventory entry declares. sens is the
// requests from new networks per sensitive object. The caller holds the
// write lock.
func (t *Tracker) corroborated(p *period, a *appState, pa *periodApp, fromNew int64, sens []int64, newObjects bool) bool {
	if o := pa.outside; o != nil && (o.other > 0 || len(o.addrs) > 0) {
		return true
	}
	u := t.usual(a, hourOf(p.end))
	if u.Days == 0 || fromNew <= 0 {
		return false
	}
	if newObjects {
		return true
	}
	for j, c := range sens {
		if c > 0 && float64(c)/float64(fromNew) > u.SensitiveShare[j]+SensitiveShareMargin {
			return true
		}
	}
	for _, c := range pa.ioc {
		if c > 0 {
			return true
		}
	}
	return p.interval != "Hourly" && pa.requests > SurgeFactor*u.Requests
}

// pruneJudged forgets the days no file can re-issue any more (those past
// the evidence retention) and the apps the baseline no longer holds.
func (t *Tracker) pruneJudged() {
	end := t.dataEnd()
	oldest := (end - int64(evidenceRetention/time.Second)) / 86400
	for key, aj := range t.judged {
		if t.apps[key] == nil {
			delete(t.judged, key)
			continue
		}
		for day := range aj.days {
			if day < oldest {
				delete(aj.days, day)
			}
		}
	}
}

// judgedFigures fills in an app's judged counters.
func (t *Tracker) judgedFigures(f *AppFigures) {
	if aj := t.judged[f.Key]; aj != nil {
		f.RequestsJudged = aj.total.requests
		f.RequestsFromNewNetworksJudged = aj.total.fromNew
		f.SensitiveRequestsFromNewNetworksJudged = aj.total.sensFromNew
		f.CorroboratedSensitiveRequestsFromNewNetworksJudged = aj.total.corrSens
	}
}
