package salesforce

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
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

var (
	// idRE matches a 15- or 18-character Salesforce id: a 3-character key
	// prefix, 2 characters of instance, the reserved 0, then 9 base-62
	// characters (and a 3-character checksum in the 18-character form).
	idRE    = regexp.MustCompile(`\b[a-zA-Z0-9]{5}0[a-zA-Z0-9]{9}(?:[a-zA-Z0-9]{3})?\b`)
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	ipv4RE  = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
)

// pseudonym returns the stable stand-in for v of a kind.
func (r *Redactor) pseudonym(kind, v string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.names[kind+"\x00"+v]; ok {
		return p
	}
	counter := kind
	if kind == "id" {
		counter += v[:3] // numbered per object type: 005000000000001, 0H4000000000001, ...
	}
	r.n[counter]++
	n := r.n[counter]
	var p string
	switch kind {
	case "id":
		// Keep the key prefix (it names the object type, not a record) and the length.
		p = v[:3] + fmt.Sprintf("%0*d", 12, n)
		if len(v) == 18 {
			p += "AAA"
		}
	case "email":
		p = fmt.Sprintf("user%d@example.invalid", n)
	case "ip":
		p = fmt.Sprintf("192.0.2.%d", n%254+1)
	default:
		p = fmt.Sprintf("%s-%d", kind, n)
	}
	r.names[kind+"\x00"+v] = p
	return p
}

// String redacts one value found under key ("" when there is none).
func (r *Redactor) String(key, v string) string {
	k := strings.ToLower(key)
	if personKeys[k] && v != "" {
		if strings.Contains(v, "@") {
			return r.pseudonym("email", v)
		}
		return r.pseudonym("person", v)
	}
	if ip := net.ParseIP(strings.TrimSpace(v)); ip != nil {
		return r.pseudonym("ip", v)
	}
	v = emailRE.ReplaceAllStringFunc(v, func(s string) string { return r.pseudonym("email", s) })
	v = ipv4RE.ReplaceAllStringFunc(v, func(s string) string {
		if net.ParseIP(s) == nil {
			return s
		}
		return r.pseudonym("ip", s)
	})
	return idRE.ReplaceAllStringFunc(v, func(s string) string {
		if !strings.ContainsAny(s, "0123456789") || isAllDigits(s) {
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
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys) // pseudonyms are numbered in a deterministic order
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
			out[k] = r.value(k, x)
		}
		return out
	case []any:
		for i := range t {
			t[i] = r.value(key, t[i])
		}
		return t
	case string:
		return r.String(key, t)
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
