package salesforce_test

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// trafficOrg is an org with an integration and a mobile app, with days of
// ApiTotalUsage Daily files and LoginHistory rows from sftest's realistic
// networks; the last day has the switches.
func trafficOrg(days int, last sftest.TrafficSpec, iocLogin bool) (*sftest.Org, time.Time) {
	org := sftest.NewOrg()
	day0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	org.SetNow(day0.AddDate(0, 0, days).Add(6 * time.Hour))
	mobileUsers := []int{}
	for i := range 40 {
		mobileUsers = append(mobileUsers, org.AddUser("m"+strconv.Itoa(i)+"@example.com", true))
	}
	for d := range days {
		day := day0.AddDate(0, 0, d)
		erp := sftest.TrafficSpec{AppID: "0H45j000000Erp1AAA", AppName: "Acme ERP Sync", Day: day, DayIndex: d, Odd: true}
		mob := sftest.TrafficSpec{AppID: "0H45j000000Mob1AAA", AppName: "Field Sales Mobile", Profile: sftest.Mobile, Day: day, DayIndex: d, Users: mobileUsers, Objects: []string{"Account", "Contact", "Opportunity"}, IPv6: true, EntitySet: true}
		ioc := false
		if d == days-1 {
			erp.TokenReplay, erp.EntitySet = last.TokenReplay, last.EntitySet
			ioc = iocLogin
		}
		rows := append(sftest.Traffic(erp), sftest.Traffic(mob)...)
		org.AddLogFile(&sftest.LogFile{LogDate: day, CreatedDate: day.AddDate(0, 0, 1).Add(3 * time.Hour), Retention: 60 * 24 * time.Hour, Rows: rows})
		for _, l := range append(erp.LoginSpecs(ioc), mob.LoginSpecs(false)...) {
			org.AddLogin(l)
		}
	}
	return org, day0
}

// ingest reads every log file through the client into the tracker. The
// parser does not return CLIENT_IP and ENTITY_NAME yet, so this reads the
// CSV with encoding/csv.
func ingest(t *testing.T, c *salesforce.Client, tr *detect.Tracker) {
	t.Helper()
	files, err := c.EventLogFiles(t.Context(), "ApiTotalUsage", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body, err := c.OpenLogFile(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(body).ReadAll()
		body.Close()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		in := tr.Begin(detect.Period{Key: f.LogDate.Format(time.DateOnly), Interval: f.Interval, Start: f.LogDate.Time, FileID: f.ID})
		for _, r := range recs[1:] {
			ts, _ := time.Parse("2006-01-02T15:04:05.000Z", r[col["TIMESTAMP_DERIVED"]])
			in.Add(&detect.Row{Time: ts.Unix(), AppID: []byte(r[col["CONNECTED_APP_ID"]]), AppName: []byte(r[col["CONNECTED_APP_NAME"]]),
				ClientIP: []byte(r[col["CLIENT_IP"]]), EntityName: []byte(r[col["ENTITY_NAME"]]), UserID: []byte(r[col["USER_ID"]])})
		}
		tr.Commit(in)
	}
}

func logins(t *testing.T, c *salesforce.Client, tr *detect.Tracker, now time.Time) {
	t.Helper()
	var ls []detect.Login
	err := c.Logins(t.Context(), now.Add(-24*time.Hour), salesforce.LoginsOptions{}, func(l salesforce.LoginHistory) {
		ls = append(ls, detect.Login{Time: l.LoginTime.Time, App: l.Application, SourceIP: l.SourceIP, UserID: l.UserID})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) == 0 || ls[0].SourceIP == "" || ls[0].UserID == "" {
		t.Fatalf("LoginHistory rows lack SourceIp or UserId: %+v", ls)
	}
	tr.Logins(now, ls)
}

func figures(t *testing.T, tr *detect.Tracker, name string) detect.AppFigures {
	t.Helper()
	for _, f := range tr.Figures() {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no figures for %s", name)
	return detect.AppFigures{}
}

func TestFakeNetworksTokenReplay(t *testing.T) {
	t.Parallel()
	org, _ := trafficOrg(10, sftest.TrafficSpec{TokenReplay: true, EntitySet: true}, true)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	tr, _ := detect.New(detect.Config{})
	set, _ := detect.NewIOCSet([]detect.IOCList{mustList(t)})
	tr.SetIOC(set)
	ingest(t, c, tr)
	logins(t, c, tr, org.Now())
	erp := figures(t, tr, "Acme ERP Sync")
	// 1,000 usual requests plus 500 from five new networks: a third of the day.
	if !erp.BaselineReady || erp.RequestsFromNewNetworks != 500 {
		t.Fatalf("replay: %+v", erp)
	}
	// Three fixed networks, Salesforce.com IP, the empty and unparsable
	// buckets (the IPv4-mapped row is one of the fixed), and the five.
	if erp.Networks != 3+3+5 {
		t.Fatalf("networks %d", erp.Networks)
	}
	idx := func(o string) int {
		for i, s := range tr.Config().SensitiveObjects {
			if s == o {
				return i
			}
		}
		return -1
	}
	if erp.ObjectRequestsFromNewNetworks[idx("User")] != 250 || erp.ObjectRequestsFromNewNetworks[idx("Account")] != 250 || erp.NewObjectRequests[idx("User")] != 250 {
		t.Fatalf("objects: %+v", erp)
	}
	if erp.IOCLogins["campaigns-2025"] != 1 || erp.IOCRequests["campaigns-2025"] != 0 {
		t.Fatalf("ioc: %+v", erp)
	}
	from, to := tr.APIWindow()
	ev := tr.Evidence(erp.Key, from, to)
	if len(ev) != 5 || len(ev[0].Users) != 1 || !strings.HasPrefix(ev[0].Network, "198.18.") {
		t.Fatalf("evidence %+v", ev)
	}
	mob := figures(t, tr, "Field Sales Mobile")
	// The roaming app has new networks every day; the alerts compare its
	// share with its own history, so the figure must be steady, not zero.
	if mob.RequestsFromNewNetworks < 500 || mob.Networks < 30 {
		t.Fatalf("mobile: %+v", mob)
	}
}

func TestFakeNetworksQuietDayAndRestart(t *testing.T) {
	t.Parallel()
	org, _ := trafficOrg(10, sftest.TrafficSpec{}, false)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	tr, _ := detect.New(detect.Config{})
	ingest(t, c, tr)
	logins(t, c, tr, org.Now())
	// A restart: the state goes to disk and back, and the logins of the
	// last 24 hours are read again.
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := detect.Restore(detect.Config{}, b)
	if err != nil {
		t.Fatal(err)
	}
	logins(t, c, back, org.Now())
	for _, x := range []*detect.Tracker{tr, back} {
		erp := figures(t, x, "Acme ERP Sync")
		if !erp.BaselineReady || erp.RequestsFromNewNetworks != 0 || erp.LoginsFromNewNetworks != 0 || erp.NewObjects != 0 {
			t.Fatalf("quiet day: %+v", erp)
		}
	}
}

func mustList(t *testing.T) detect.IOCList {
	l, err := detect.LoadIOCFile("campaigns-2025", "../docs/ioc-2025-salesforce-campaigns.txt")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
