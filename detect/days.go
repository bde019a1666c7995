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

// judgedFigs are one period's or one day's judged figures.
type judgedFigs struct {
	requests, fromNew, sensFromNew int64
}

func (a judgedFigs) add(b judgedFigs) judgedFigs {
	return judgedFigs{a.requests + b.requests, a.fromNew + b.fromNew, a.sensFromNew + b.sensFromNew}
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
// app's baseline was ready for the period's window when it was committed.
func (t *Tracker) judgePeriod(p *period, key string, pa *periodApp, ready bool) {
	f := judgedFigs{requests: pa.requests}
	if ready {
		for _, b := range pa.young {
			f.fromNew += b.requests
			for _, c := range b.sens {
				f.sensFromNew += c
			}
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
	}
}
