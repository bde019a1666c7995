package sftest

import (
	"sort"
	"strings"
	"time"
)

// fieldDef is one queryable field. get is called with the org's read lock held.
type fieldDef struct {
	name          string
	filter, group bool
	double        bool
	get           func(o *Org, r int) value
	// since is the API version the field appeared in ("" for always);
	// exists, when set, says whether the org has it (a feature is on).
	since  string
	exists func(o *Org) bool
}

type relDef struct {
	name   string
	target string
	fk     func(o *Org, r int) int // -1 when null
	// shared: the target's fields read as null when the integration user
	// cannot see the target row (User records under a Private sharing default).
	shared bool
}

type objectDef struct {
	name      string
	idPrefix  string
	fields    map[string]*fieldDef
	rels      map[string]*relDef
	n         func(o *Org) int
	visible   func(o *Org, r int) bool
	id        func(o *Org, r int) string // for attributes.url; "" for none
	sortedBy  string                     // field the rows are sorted by (ascending)
	pageSize  int                        // fixed page size (OauthToken: 500)
	cursorCap int                        // rows a cursor returns at most (OauthToken: 2500)
	noAggs    func(o *Org) bool          // aggregate functions rejected
	access    func(o *Org) bool          // nil: always readable; false: INVALID_TYPE
	since     string                     // API version the object appeared in ("" for always); older: INVALID_TYPE
	big       []string                   // a big object's index fields, in order (checkBigObject); nil for others
}

func fields(fs ...*fieldDef) map[string]*fieldDef {
	m := map[string]*fieldDef{}
	for _, f := range fs {
		m[strings.ToLower(f.name)] = f
	}
	return m
}

func f(name string, filter, group bool, get func(o *Org, r int) value) *fieldDef {
	return &fieldDef{name: name, filter: filter, group: group, get: get}
}

// loginSubType is LoginHistory.LoginSubType, a filterable picklist the
// object reference lists; Behaviour.NoLoginSubType takes it away.
func loginSubType() *fieldDef {
	d := f("LoginSubType", true, true, func(o *Org, r int) value { return str(o.logins[r].subType) })
	d.exists = func(o *Org) bool { return !o.Behavior.NoLoginSubType }
	return d
}

func str(s string) value {
	if s == "" {
		return value{}
	}
	return strVal(s)
}

func tm(t time.Time) value {
	if t.IsZero() {
		return value{}
	}
	return timeVal(t)
}

var schema map[string]*objectDef

func init() {
	tok := &objectDef{
		name: "OauthToken", sortedBy: "createddate", pageSize: 500, cursorCap: 2500,
		n: func(o *Org) int { return len(o.tokens) },
		visible: func(o *Org, r int) bool {
			t := &o.tokens[r]
			if o.Behavior.ECATokensHidden && o.apps[t.app].ECA {
				return false
			}
			return !t.revoked && (!o.restrictTokens && o.has(PermCustomizeApplication) || int(t.user) == o.integrationUser)
		},
		noAggs: func(o *Org) bool { return !o.Behavior.OauthTokenAggregates },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value {
				if o.Behavior.NullOauthTokenIDs {
					return value{}
				}
				return strVal(makeID("0CQ", int(o.tokens[r].seq)+1))
			}),
			f("AppName", true, true, func(o *Org, r int) value { return strVal(o.apps[o.tokens[r].app].Name) }),
			f("AppMenuItemId", true, true, func(o *Org, r int) value { return str(o.menuItemOf(int(o.tokens[r].app))) }),
			f("UserId", true, true, func(o *Org, r int) value { return strVal(o.users[o.tokens[r].user].ID) }),
			f("CreatedDate", true, false, func(o *Org, r int) value { return msVal(o.tokens[r].created) }),
			f("LastUsedDate", true, false, func(o *Org, r int) value { return msVal(o.tokens[r].lastUsed) }),
			f("UseCount", true, true, func(o *Org, r int) value { return numVal(float64(o.tokens[r].useCount)) }),
			f("DeleteToken", true, true, func(o *Org, r int) value { return strVal(o.deleteToken(r)) }),
			f("AccessToken", true, true, func(o *Org, r int) value { o.secretSelected.Add(1); return strVal("5Aep861" + o.deleteToken(r)[3:]) }),
			f("RequestToken", true, true, func(o *Org, r int) value { o.secretSelected.Add(1); return value{} }),
		),
		rels: map[string]*relDef{
			"user": {name: "User", target: "user", shared: true, fk: func(o *Org, r int) int { return int(o.tokens[r].user) }},
			"appmenuitem": {name: "AppMenuItem", target: "appmenuitem", fk: func(o *Org, r int) int {
				a := int(o.tokens[r].app)
				if o.menuItemOf(a) == "" {
					return -1
				}
				return a
			}},
		},
	}
	user := &objectDef{
		name: "User", idPrefix: "005",
		n:       func(o *Org) int { return len(o.users) },
		visible: (*Org).seesUser,
		id:      func(o *Org, r int) string { return o.users[r].ID },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value { return strVal(o.users[r].ID) }),
			f("Username", true, true, func(o *Org, r int) value { return strVal(o.users[r].Username) }),
			f("Name", true, true, func(o *Org, r int) value { return strVal(strings.Split(o.users[r].Username, "@")[0]) }),
			f("IsActive", true, true, func(o *Org, r int) value { return boolVal(o.users[r].Active) }),
			f("LastModifiedDate", true, false, func(o *Org, r int) value { return tm(o.users[r].Modstamp) }),
			f("SystemModstamp", true, false, func(o *Org, r int) value { return tm(o.users[r].Modstamp) }),
		),
	}
	capp := &objectDef{
		name: "ConnectedApplication", idPrefix: "0H4",
		n:       func(o *Org) int { return len(o.apps) },
		visible: func(o *Org, r int) bool { return o.apps[r].Installed && !o.apps[r].ECA },
		id:      func(o *Org, r int) string { return o.apps[r].ID },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value { return strVal(o.apps[r].ID) }),
			f("Name", true, true, func(o *Org, r int) value { return strVal(o.apps[r].Name) }),
			f("OptionsAllowAdminApprovedUsersOnly", true, true, func(o *Org, r int) value { return boolVal(o.apps[r].AdminApproved) }),
			f("OptionsRefreshTokenValidityMetric", true, false, func(o *Org, r int) value { return boolVal(o.apps[r].RefreshIdle) }),
			f("RefreshTokenValidityPeriod", true, true, func(o *Org, r int) value {
				if o.apps[r].RefreshPeriod == 0 {
					return value{}
				}
				return numVal(float64(o.apps[r].RefreshPeriod))
			}),
			f("OptionsHasSessionLevelPolicy", true, false, func(o *Org, r int) value { return boolVal(o.apps[r].HighAssurance) }),
			f("CreatedDate", true, false, func(o *Org, r int) value { return tm(o.apps[r].Created) }),
		),
	}
	menu := &objectDef{
		name: "AppMenuItem", idPrefix: "0Pp",
		n:       func(o *Org) int { return len(o.apps) },
		visible: func(o *Org, r int) bool { return o.apps[r].Installed || o.menuItemOf(r) != "" },
		id:      func(o *Org, r int) string { return o.apps[r].MenuItemID },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value { return strVal(o.apps[r].MenuItemID) }),
			// ApplicationId is a 15-character Id, unlike most references.
			f("ApplicationId", true, true, func(o *Org, r int) value { return strVal(o.apps[r].ID[:15]) }),
			f("Label", true, true, func(o *Org, r int) value { return strVal(o.apps[r].Name) }),
			f("Name", true, true, func(o *Org, r int) value { return strVal(strings.ReplaceAll(o.apps[r].Name, " ", "_")) }),
			f("Type", true, true, func(o *Org, r int) value {
				if o.apps[r].ECA {
					return strVal("ExternalClientApplication")
				}
				return strVal("ConnectedApplication")
			}),
			f("IsUsingAdminAuthorization", true, true, func(o *Org, r int) value { return boolVal(o.apps[r].AdminApproved) }),
		),
	}
	sess := &objectDef{
		name: "AuthSession", idPrefix: "0Ak",
		n:       func(o *Org) int { return len(o.sessions) },
		visible: func(o *Org, r int) bool { return o.seesAllSessions() || o.sessions[r].user == o.integrationUser },
		id:      func(o *Org, r int) string { return o.sessions[r].id },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value { return strVal(o.sessions[r].id) }),
			f("UsersId", true, true, func(o *Org, r int) value { return strVal(o.users[o.sessions[r].user].ID) }),
			f("SessionType", true, true, func(o *Org, r int) value { return strVal(o.sessions[r].sessionType) }),
			f("LoginType", true, true, func(*Org, int) value { return strVal("Remote Access 2.0") }),
			f("CreatedDate", true, false, func(o *Org, r int) value { return tm(o.sessions[r].created) }),
			f("LastModifiedDate", true, false, func(o *Org, r int) value { return tm(o.sessions[r].lastModified) }),
			f("NumSecondsValid", true, true, func(o *Org, r int) value { return numVal(float64(o.sessions[r].secondsValid)) }),
			f("LoginHistoryId", true, true, func(o *Org, r int) value {
				if l := o.sessions[r].login; l >= 0 {
					return strVal(o.logins[l].id)
				}
				return value{}
			}),
		),
		rels: map[string]*relDef{
			"loginhistory": {name: "LoginHistory", target: "loginhistory", fk: func(o *Org, r int) int { return o.sessions[r].login }},
		},
	}
	lh := &objectDef{
		name: "LoginHistory", idPrefix: "0Ya",
		n: func(o *Org) int { return len(o.logins) },
		visible: func(o *Org, r int) bool {
			l := &o.logins[r]
			return !l.written.After(o.nowLocked()) && (o.seesAllLogins() || l.user == o.integrationUser)
		},
		id: func(o *Org, r int) string { return o.logins[r].id },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value { return strVal(o.logins[r].id) }),
			f("UserId", true, true, func(o *Org, r int) value { return strVal(o.users[o.logins[r].user].ID) }),
			f("LoginTime", true, false, func(o *Org, r int) value { return tm(o.logins[r].time) }),
			// Application and Status can't be filtered.
			f("Application", false, true, func(o *Org, r int) value { return str(o.logins[r].application) }),
			f("Status", false, true, func(o *Org, r int) value { return str(o.logins[r].status) }),
			f("LoginType", true, true, func(o *Org, r int) value { return strVal(o.logins[r].loginType) }),
			loginSubType(),
			f("ApiType", false, true, func(o *Org, r int) value { return str(o.logins[r].apiType) }),
			// The facts disagree on whether SourceIp filters; the fake says no.
			f("SourceIp", false, false, func(o *Org, r int) value { return str(o.logins[r].sourceIP) }),
		),
	}
	elf := &objectDef{
		name: "EventLogFile", idPrefix: "0AT",
		n: func(o *Org) int { return len(o.logs) },
		// View Event Log Files, or View All Data: without either the
		// object is not there for the user (INVALID_TYPE).
		access:  func(o *Org) bool { return o.has(PermViewEventLogFiles) || o.has(PermViewAllData) },
		visible: func(o *Org, r int) bool { return o.logs[r].listed(o, o.nowLocked()) },
		id:      func(o *Org, r int) string { return o.logs[r].ID },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value { return strVal(o.logs[r].ID) }),
			f("EventType", true, true, func(o *Org, r int) value { return strVal(o.logs[r].EventType) }),
			f("Interval", true, true, func(o *Org, r int) value { return strVal(o.logs[r].Interval) }),
			f("LogDate", true, false, func(o *Org, r int) value { return tm(o.logs[r].LogDate) }),
			f("CreatedDate", true, false, func(o *Org, r int) value { return tm(o.logs[r].CreatedDate) }),
			f("Sequence", true, true, func(o *Org, r int) value { return numVal(float64(o.logs[r].Sequence)) }),
			&fieldDef{name: "LogFileLength", filter: true, double: true, get: func(o *Org, r int) value { return numVal(float64(o.logs[r].length())) }},
			// The CSV's header, comma-separated, as the file writes it.
			f("LogFileFieldNames", false, false, func(o *Org, r int) value { return strVal(strings.Join(o.logs[r].columns(), ",")) }),
			f("LogFile", false, false, func(o *Org, r int) value {
				return strVal("/services/data/v" + o.apiVersionForURL() + "/sobjects/EventLogFile/" + o.logs[r].ID + "/LogFile")
			}),
		),
	}
	ecaObj := &objectDef{
		name: "ExternalClientApplication", idPrefix: "0xI",
		n:       func(o *Org) int { return len(o.ecas) },
		visible: func(*Org, int) bool { return true },
		id:      func(o *Org, r int) string { return o.ecas[r].id },
		fields: fields(
			f("Id", true, true, func(o *Org, r int) value { return strVal(o.ecas[r].id) }),
			f("MasterLabel", true, true, func(o *Org, r int) value { return strVal(o.ecas[r].name) }),
			f("DeveloperName", true, true, func(o *Org, r int) value { return strVal(o.ecas[r].developerName) }),
			f("DistributionState", true, true, func(*Org, int) value { return strVal("Local") }),
			f("CreatedDate", true, false, func(o *Org, r int) value { return tm(o.apps[o.ecas[r].app].Created) }),
		),
	}
	// An External Client App's OAuth policy: its permitted users, from its
	// app entry's AdminApproved (ECAIndex, UpdateApp).
	ecaPolicy := &objectDef{
		name: "ExtlClntAppOauthPlcyCnfg", idPrefix: "0Xe",
		n:       func(o *Org) int { return len(o.ecas) },
		visible: func(*Org, int) bool { return true },
		access:  func(o *Org) bool { return !o.Behavior.NoECAPolicyObject },
		id:      func(o *Org, r int) string { return makeID("0Xe", r+1) },
		fields: fields(
			f("Id", true, true, func(_ *Org, r int) value { return strVal(makeID("0Xe", r+1)) }),
			f("ExternalClientApplicationId", true, true, func(o *Org, r int) value { return strVal(o.ecas[r].id) }),
			f("PermittedUsersPolicyType", true, true, func(o *Org, r int) value {
				if o.apps[o.ecas[r].app].AdminApproved {
					return strVal("AdminApprovedPreAuthorized")
				}
				return strVal("AllSelfAuthorized")
			}),
		),
	}
	schema = map[string]*objectDef{}
	for _, d := range append(append([]*objectDef{tok, user, capp, menu, sess, lh, elf, ecaObj, ecaPolicy}, permissionObjects()...), append(threatObjects(), apiEventObject())...) {
		schema[strings.ToLower(d.name)] = d
	}
}

// sortedRange narrows the rows of a sorted object to a [lo, hi) index range
// using the top-level AND conditions on its sort field.
func sortedRange(o *Org, d *objectDef, where *cond) (int, int) {
	n := d.n(o)
	if d.sortedBy == "" || where == nil {
		return 0, n
	}
	fd := d.fields[d.sortedBy]
	lo, hi := 0, n
	var walk func(c *cond)
	walk = func(c *cond) {
		if c == nil {
			return
		}
		if c.op == "AND" {
			walk(c.left)
			walk(c.right)
			return
		}
		if c.op != "CMP" || !strings.EqualFold(c.field, d.sortedBy) || c.val.k == kNull {
			return
		}
		at := func(pred func(v value) bool) int {
			return sort.Search(n, func(i int) bool { return pred(fd.get(o, i)) })
		}
		ge := func(v value) bool { c2, _ := compare(v, c.val); return c2 >= 0 }
		gt := func(v value) bool { c2, _ := compare(v, c.val); return c2 > 0 }
		switch c.cmp {
		case ">=":
			lo = max(lo, at(ge))
		case ">":
			lo = max(lo, at(gt))
		case "<":
			hi = min(hi, at(ge))
		case "<=":
			hi = min(hi, at(gt))
		case "=":
			lo, hi = max(lo, at(ge)), min(hi, at(gt))
		}
	}
	walk(where)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}
