package salesforce

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Redactor rewrites Salesforce responses so that they can be shared: secrets
// (access, refresh and delete tokens, signatures) are removed, and user
// names, emails, record ids, the org id and IP addresses are replaced by
// pseudonyms that stay the same for the same value, so the shapes and the
// joins between responses survive. App names are kept: they are what a bug
// report is about. It is safe for concurrent use.
type Redactor struct {
	mu    sync.Mutex
	names map[string]string
	n     map[string]int
}

// NewRedactor returns a Redactor with no pseudonyms assigned yet.
func NewRedactor() *Redactor { return &Redactor{names: map[string]string{}, n: map[string]int{}} }

// secretKeys are dropped wherever they appear (compared case-insensitively).
var secretKeys = map[string]bool{
	"access_token": true, "refresh_token": true, "id_token": true, "signature": true,
	"accesstoken": true, "refreshtoken": true, "requesttoken": true, "deletetoken": true,
	"revocationurl": true, "password": true, "client_secret": true, "assertion": true,
}

// personKeys hold a person's name, whatever the value looks like.
var personKeys = map[string]bool{
	"username": true, "user_name": true, "email": true, "name_of_user": true,
	"firstname": true, "lastname": true, "user_name_normalized": true, "login_key": true,
}

// personFields of a User record (or of a user relationship, such as
// CreatedBy) name a person: Name among them, which elsewhere is an app's
// name and is kept.
var personFields = map[string]bool{
	"name": true, "firstname": true, "lastname": true, "middlename": true, "username": true,
	"email": true, "alias": true, "communitynickname": true, "federationidentifier": true,
}

// userRelations are the relationship fields that hold a User.
var userRelations = map[string]bool{
	"user": true, "createdby": true, "lastmodifiedby": true, "owner": true, "manager": true, "delegatedapprover": true,
}

var (
	// alnumRE matches a run of letters and digits: an id is one run of 15
	// or 18 characters, whatever joins it to its neighbours (_, /, a quote).
	alnumRE = regexp.MustCompile(`[a-zA-Z0-9]+`)
	// idShapeRE is a 15- or 18-character Salesforce id: a 3-character key
	// prefix, 2 characters of instance, the reserved 0, then 9 base-62
	// characters (and a 3-character checksum in the 18-character form).
	idShapeRE = regexp.MustCompile(`^[a-zA-Z0-9]{5}0[a-zA-Z0-9]{9}(?:[a-zA-Z0-9]{3})?$`)
	// sessionRE is a session id or access token: the org id, "!", and the
	// secret half.
	sessionRE = regexp.MustCompile(`00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?![A-Za-z0-9._\-]+`)
	// emailRE accepts unicode (IDN) local parts and domains.
	emailRE = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}`)
	ipv4RE  = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	// ipv6RE finds candidates; net.ParseIP decides.
	ipv6RE = regexp.MustCompile(`[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\d{1,3}(?:\.\d{1,3}){3})?`)
	// hostRE is an org's host name on a Salesforce domain; login and test
	// (the shared login hosts) name no org and are kept.
	hostRE = regexp.MustCompile(`(?i)\b[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:salesforce|force|cloudforce|visualforce|salesforce-sites|sfcrmproducts|site)\.(?:com|mil|cn)\b`)
)

// orgHost stands in for every org host name.
const orgHost = "org.my.salesforce.example"

// pseudonym returns the stable stand-in for v of a kind. An id is keyed on
// its 15-character form, so its 15- and 18-character forms get one
// pseudonym (in the same length as the value); an address keeps its
// family; no two values ever share a pseudonym.
func (r *Redactor) pseudonym(kind, v string) string {
	key := v
	if kind == "id" {
		key = v[:15]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.names[kind+"\x00"+key]
	if !ok {
		counter := kind
		if kind == "id" {
			counter += v[:3] // numbered per object type: 005000000000001, 0H4000000000001, ...
		}
		r.n[counter]++
		n := r.n[counter]
		switch kind {
		case "id":
			// Keep the key prefix (it names the object type, not a record).
			p = v[:3] + fmt.Sprintf("%0*d", 12, n)
		case "email":
			p = fmt.Sprintf("user%d@example.invalid", n)
		case "ip4":
			if n <= 254 {
				p = fmt.Sprintf("192.0.2.%d", n) // TEST-NET-1 (RFC 5737)
			} else {
				// Then 240.0.0.0/4, reserved: 2^28 more, none repeated.
				a := 0xF0000000 + uint32(n-254)
				p = fmt.Sprintf("%d.%d.%d.%d", a>>24, a>>16&0xff, a>>8&0xff, a&0xff)
			}
		case "ip6":
			p = fmt.Sprintf("2001:db8::%x", n) // the documentation prefix (RFC 3849)
		default:
			p = fmt.Sprintf("%s-%d", kind, n)
		}
		r.names[kind+"\x00"+key] = p
	}
	if kind == "id" && len(v) == 18 {
		p += "AAA"
	}
	return p
}

// ip returns the pseudonym of an address, in its family.
func (r *Redactor) ip(s string) string {
	ip := net.ParseIP(s)
	if ip.To4() != nil && !strings.Contains(s, ":") {
		return r.pseudonym("ip4", ip.String())
	}
	return r.pseudonym("ip6", ip.String())
}

// String redacts one value found under key ("" when there is none).
func (r *Redactor) String(key, v string) string {
	return r.field(key, v, false)
}

// field redacts v under key; person says the enclosing record is a User.
func (r *Redactor) field(key, v string, person bool) string {
	k := strings.ToLower(key)
	if v != "" && (personKeys[k] || person && personFields[k]) {
		if strings.Contains(v, "@") {
			return r.pseudonym("email", v)
		}
		return r.pseudonym("person", v)
	}
	if t := strings.TrimSpace(v); net.ParseIP(t) != nil {
		return r.ip(t)
	}
	v = sessionRE.ReplaceAllString(v, "[redacted]")
	v = hostRE.ReplaceAllStringFunc(v, func(h string) string {
		switch strings.ToLower(h) {
		case "login.salesforce.com", "test.salesforce.com":
			return h
		}
		return orgHost
	})
	v = emailRE.ReplaceAllStringFunc(v, func(s string) string { return r.pseudonym("email", s) })
	v = ipv6RE.ReplaceAllStringFunc(v, func(s string) string {
		if strings.Count(s, ":") < 2 || net.ParseIP(s) == nil {
			return s
		}
		return r.ip(s)
	})
	v = ipv4RE.ReplaceAllStringFunc(v, func(s string) string {
		if net.ParseIP(s) == nil {
			return s
		}
		return r.ip(s)
	})
	return alnumRE.ReplaceAllStringFunc(v, func(s string) string {
		if !idShapeRE.MatchString(s) || !strings.ContainsAny(s, "0123456789") || isAllDigits(s) {
			return s
		}
		return r.pseudonym("id", s)
	})
}

func isAllDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// JSON redacts a JSON document. A body that is not JSON is redacted as text.
func (r *Redactor) JSON(b []byte) []byte {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return []byte(r.String("", string(b)))
	}
	out, err := json.MarshalIndent(r.value("", v), "", "  ")
	if err != nil {
		return nil
	}
	return append(out, '\n')
}

func (r *Redactor) value(key string, v any) any {
	return r.valueIn(key, v, false)
}

// valueIn redacts v under key; person says the enclosing record is a User.
func (r *Redactor) valueIn(key string, v any, person bool) any {
	switch t := v.(type) {
	case map[string]any:
		isUser := userRelations[strings.ToLower(key)]
		if a, ok := t["attributes"].(map[string]any); ok {
			if typ, _ := a["type"].(string); typ != "" {
				isUser = typ == "User"
			}
		}
		out := make(map[string]any, len(t))
		keys := slices.Sorted(maps.Keys(t)) // pseudonyms are numbered in a deterministic order
		for _, k := range keys {
			x := t[k]
			if secretKeys[strings.ToLower(k)] {
				if x != nil {
					out[k] = "[redacted]"
				} else {
					out[k] = nil
				}
				continue
			}
			out[k] = r.valueIn(k, x, isUser)
		}
		return out
	case []any:
		for i := range t {
			t[i] = r.valueIn(key, t[i], person)
		}
		return t
	case string:
		return r.field(key, t, person)
	}
	return v
}

// CSV redacts an event log file: each field under its header's name.
func (r *Redactor) CSV(b []byte) ([]byte, error) {
	rd := csv.NewReader(bytes.NewReader(b))
	rd.FieldsPerRecord = -1
	rd.LazyQuotes = true
	rows, err := rd.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redact csv: %w", err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for i, row := range rows {
		if i > 0 {
			for j := range row {
				key := ""
				if j < len(rows[0]) {
					key = rows[0][j]
				}
				row[j] = r.String(key, row[j])
			}
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
