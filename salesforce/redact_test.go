package salesforce

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestRedactorLeaks (issue 24 item 10): each value below once survived
// redaction.
func TestRedactorLeaks(t *testing.T) {
	t.Parallel()
	r := NewRedactor()
	doc := `{
  "instance_url": "https://acme-corp.my.salesforce.com",
  "id": "https://login.salesforce.com/id/00D5j000000XyzAEAS/0055j000001AbcdAAC",
  "records": [
    {"attributes": {"type": "User"}, "Id": "0055j000001AbcdAAC", "Name": "Jane Q Doe", "Username": "jane@acme.example"},
    {"attributes": {"type": "LoginHistory"}, "SourceIp": "2001:db8:85a3::8a2e:370:7334", "Application": "Data Loader",
     "User": {"Name": "John Roe"}},
    {"attributes": {"type": "ConnectedApplication"}, "Name": "Salesforce Mobile App"}
  ],
  "note": "session 00D5j000000XyzA!AQ8AQJrP3x9k.secretHalf_xyz from fe80::1ff:fe23:4567:890a for jörg@bücher.de; key 0055j000001Abcd_0H45j000000XyzA; see https://acme-corp.lightning.force.com/x"
}`
	out := string(r.JSON([]byte(doc)))
	for _, leak := range []string{
		"acme-corp", "Jane Q Doe", "John Roe", "jane@acme.example",
		"AQ8AQJrP3x9k", "secretHalf", "0055j000001Abcd", "0H45j000000XyzA", "00D5j000000XyzA",
		"8a2e:370:7334", "fe80::1ff", "jörg", "bücher",
	} {
		if strings.Contains(out, leak) {
			t.Errorf("%q survives:\n%s", leak, out)
		}
	}
	for _, kept := range []string{"Salesforce Mobile App", "Data Loader", "login.salesforce.com", "org.my.salesforce.example"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q was lost:\n%s", kept, out)
		}
	}
}

// TestRedactorPseudonyms: the 15- and 18-character forms of one id share a
// pseudonym (each in its own length); an address keeps its family; no
// pseudonym repeats, past 254 addresses too.
func TestRedactorPseudonyms(t *testing.T) {
	t.Parallel()
	r := NewRedactor()
	p15, p18 := r.String("", "0055j000001AbcD"), r.String("", "0055j000001AbcDAAC")
	if len(p15) != 15 || len(p18) != 18 || p18[:15] != p15 || p15 == "0055j000001AbcD" {
		t.Errorf("15: %q, 18: %q", p15, p18)
	}
	if other := r.String("", "0055j000001AbcE"); other == p15 {
		t.Error("two ids share a pseudonym")
	}
	seen := map[string]string{}
	for i := range 1000 {
		for _, ip := range []string{fmt.Sprintf("10.0.%d.%d", i/256, i%256), fmt.Sprintf("2001:db8:1::%x", i+1)} {
			p := r.String("", ip)
			if prev, ok := seen[p]; ok {
				t.Fatalf("%s and %s share the pseudonym %s", prev, ip, p)
			}
			seen[p] = ip
			a := net.ParseIP(p)
			if a == nil || (a.To4() == nil) != strings.Contains(ip, ":") {
				t.Fatalf("%s: pseudonym %s is not an address of its family", ip, p)
			}
		}
	}
	if first, again := r.String("", "10.0.0.0"), r.String("", "10.0.0.0"); first != again {
		t.Error("one address, two pseudonyms")
	}
}
