package sftest

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Realistic client addresses for ApiTotalUsage CLIENT_IP and LoginHistory
// SourceIp. An integration calls from two or three fixed egress addresses
// (a cloud NAT, an office); a mobile app from many residential networks that
// change every day; Salesforce's own callers show as "Salesforce.com IP".
// Nothing here is a real customer's address: the fixed ones are in
// 100.64.0.0/10 (carrier-grade NAT) and the attacker's in 198.18.0.0/15
// (benchmarking), except IOCAddress, which is on the public UNC6395 list.

// SalesforceIP is what Salesforce writes for its own internal callers.
const SalesforceIP = "Salesforce.com IP"

// IOCAddress is an address from docs/ioc-2025-salesforce-campaigns.txt.
const IOCAddress = "208.68.36.90"

func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// IntegrationIP is the i-th request's address for an integration: one of
// three fixed addresses in three /24 networks, chosen by the app's name.
func IntegrationIP(app string, i int) string {
	h := hash(app)
	n := i % 3
	return fmt.Sprintf("100.%d.%d.%d", 64+h%32, (h>>8)%200+uint32(n), 10+(h>>16)%40)
}

// IntegrationNetworks are the /24 networks of an integration's three
// addresses (IntegrationIP), as its inventory entry would declare them.
func IntegrationNetworks(app string) []string {
	out := make([]string, 3)
	for i := range out {
		ip := IntegrationIP(app, i)
		out[i] = ip[:strings.LastIndexByte(ip, '.')] + ".0/24"
	}
	return out
}

// MobileIP is a user's address on a day: a residential network that changes daily.
func MobileIP(user, day int) string {
	h := hash(fmt.Sprint(user, "/", day))
	return fmt.Sprintf("%d.%d.%d.%d", 24+h%150, (h>>8)%256, (h>>16)%256, 1+(h>>24)%250)
}

// MobileIPv6 is the same for a carrier that hands out IPv6: a /64 a day in
// the carrier's space, so a /48 grouping still moves daily.
func MobileIPv6(user, day int) string {
	h := hash(fmt.Sprint(user, "/", day))
	return fmt.Sprintf("2001:db8:%x:%x::%x", h%0xffff, (h>>16)%0xffff, 1+user)
}

// ReplayIP is an address in one of the five networks a token thief uses.
func ReplayIP(network, i int) string {
	return fmt.Sprintf("198.18.%d.%d", 10+network%5, 1+i%250)
}

// Profile is how an app's traffic is spread over networks.
type Profile int

// Profiles.
const (
	Integration Profile = iota // two or three fixed networks
	Mobile                     // many residential networks, new every day
)

// TrafficSpec describes one day of ApiTotalUsage events for one app.
type TrafficSpec struct {
	AppID, AppName string
	Profile        Profile
	Day            time.Time // midnight UTC of the day
	DayIndex       int       // changes the mobile networks
	Requests       int       // the day's usual requests (default 1000)
	Users          []int     // users making them (default user 0)
	Objects        []string  // objects read (default Opportunity, Invoice__c)
	// SalesforceShare is the share of rows from "Salesforce.com IP" (default 2%).
	SalesforceShare float64
	// TokenReplay adds half the usual volume again (a third of the day)
	// from five networks the app never used, reading User and Account, by
	// the app's first user: a stolen token that keeps a normal volume.
	TokenReplay bool
	// ReplayRuns, when set, makes the replay that many runs of 10 requests
	// instead: 3 runs against 10,000 requests is the 0.3% of the volume the
	// 2025 campaign used.
	ReplayRuns int
	// Egress, when set, makes an integration call from the networks of
	// that name instead of its own: a planned NAT or cloud move, the same
	// volume, users and objects from networks the app never used.
	Egress string
	// IPv6 gives mobile users IPv6 addresses.
	IPv6 bool
	// EntitySet writes some ENTITY_NAME values as a set, "Account,Contact":
	// the format of the Set type is not documented.
	EntitySet bool
	// Odd adds rows a real org could send: an empty CLIENT_IP, an
	// unparsable one and an IPv4-mapped IPv6 address.
	Odd bool
}

// Traffic returns a day of events, spread over the day in runs of 10.
func Traffic(s TrafficSpec) []UsageRow {
	if s.Requests == 0 {
		s.Requests = 1000
	}
	if len(s.Users) == 0 {
		s.Users = []int{0}
	}
	if s.Objects == nil {
		s.Objects = []string{"Opportunity", "Invoice__c"}
	}
	if s.SalesforceShare == 0 {
		s.SalesforceShare = 0.02
	}
	const run = 10
	var rows []UsageRow
	runs := max(s.Requests/run, 1)
	sfEvery := int(1 / s.SalesforceShare / run)
	for i := range runs {
		at := s.Day.Add(time.Duration(i) * 24 * time.Hour / time.Duration(runs))
		u := s.Users[i%len(s.Users)]
		r := UsageRow{AppID: s.AppID, AppName: s.AppName, StatusCode: 200, User: u, Time: at, Count: run, Entity: s.Objects[i%len(s.Objects)]}
		switch {
		case sfEvery > 0 && i%sfEvery == sfEvery-1:
			r.ClientIP = SalesforceIP
		case s.Profile == Integration && s.Egress != "":
			r.ClientIP = IntegrationIP(s.Egress, i)
		case s.Profile == Integration:
			r.ClientIP = IntegrationIP(s.AppName, i)
		case s.IPv6 && u%2 == 0:
			r.ClientIP = MobileIPv6(u, s.DayIndex)
		default:
			r.ClientIP = MobileIP(u, s.DayIndex)
		}
		if s.EntitySet && i%7 == 3 {
			r.Entity = "Account,Contact"
		}
		rows = append(rows, r)
	}
	if s.Odd {
		rows = append(rows,
			UsageRow{AppID: s.AppID, AppName: s.AppName, StatusCode: 200, User: s.Users[0], Time: s.Day.Add(time.Hour), Count: 3, ClientIP: "", Entity: s.Objects[0]},
			UsageRow{AppID: s.AppID, AppName: s.AppName, StatusCode: 200, User: s.Users[0], Time: s.Day.Add(2 * time.Hour), Count: 3, ClientIP: "unknown", Entity: s.Objects[0]},
			UsageRow{AppID: s.AppID, AppName: s.AppName, StatusCode: 200, User: s.Users[0], Time: s.Day.Add(3 * time.Hour), Count: 3, ClientIP: "::ffff:" + IntegrationIP(s.AppName, 0), Entity: s.Objects[0]})
	}
	if s.TokenReplay {
		extra := max(s.Requests/2/run, 5)
		if s.ReplayRuns > 0 {
			extra = s.ReplayRuns
		}
		for i := range extra {
			at := s.Day.Add(12*time.Hour + time.Duration(i)*8*time.Hour/time.Duration(extra))
			obj := "User"
			if i%2 == 1 {
				obj = "Account"
			}
			rows = append(rows, UsageRow{AppID: s.AppID, AppName: s.AppName, StatusCode: 200, User: s.Users[0], Time: at, Count: run, ClientIP: ReplayIP(i, i), Entity: obj})
		}
	}
	return rows
}

// LoginSpecs returns the day's OAuth logins for the same traffic: an
// integration logs in every four hours from its fixed addresses, a mobile
// user once from the day's network. With ioc, one more login comes from
// IOCAddress.
func (s TrafficSpec) LoginSpecs(ioc bool) []LoginSpec {
	if len(s.Users) == 0 {
		s.Users = []int{0}
	}
	var out []LoginSpec
	if s.Profile == Integration {
		for h := 0; h < 24; h += 4 {
			out = append(out, LoginSpec{User: s.Users[0], App: s.AppName, Time: s.Day.Add(time.Duration(h) * time.Hour), SourceIP: IntegrationIP(s.AppName, h/4)})
		}
	} else {
		for i, u := range s.Users {
			out = append(out, LoginSpec{User: u, App: s.AppName, Time: s.Day.Add(time.Duration(i%24) * time.Hour), SourceIP: MobileIP(u, s.DayIndex)})
		}
	}
	if ioc {
		out = append(out, LoginSpec{User: s.Users[0], App: s.AppName, Time: s.Day.Add(13 * time.Hour), SourceIP: IOCAddress})
	}
	return out
}
