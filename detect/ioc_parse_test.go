package detect

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// TestIOCListAsPublished (issue 21 item 10, issue 24 item 14): a list as an
// advisory publishes it reads: a byte order mark, defanged addresses, an
// address followed by other fields; lines that hold no address are skipped,
// counted and warned about with file:line; host bits are cleared with a
// warning. Only a list where nothing parses fails.
func TestIOCListAsPublished(t *testing.T) {
	t.Parallel()
	text := "\uFEFF203.0.113.7\n" +
		"198.51.100[.]8\n" +
		"198.51.100(.)9 # Tor exit\n" +
		"198.51.100{.}10\n" +
		"198[.]51[.]100[.]11\n" +
		"2001:db8[:]:1\n" +
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) python-requests/2.31\n" +
		"evil.example[.]com\n" +
		"\"192.0.2.99\",Tor,DE\n" +
		"192.0.2.200\tVPS provider\n" +
		"203.0.113.77/24\n" +
		"2001:db8:dead::1/48\n"
	l, err := ParseIOCList("advisory", "adv.txt", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if l.Entries() != 10 || l.Skipped != 2 {
		t.Errorf("%d entries, %d skipped; want 10 and 2", l.Entries(), l.Skipped)
	}
	want := []string{
		`adv.txt:7: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) python-requests/2...." is not an IP address or CIDR prefix such as 203.0.113.0/24; skipped`,
		`adv.txt:8: "evil.example[.]com" is not an IP address or CIDR prefix such as 203.0.113.0/24; skipped`,
		`adv.txt:11: 203.0.113.77/24 has host bits set; read as 203.0.113.0/24`,
		`adv.txt:12: 2001:db8:dead::1/48 has host bits set; read as 2001:db8:dead::/48`,
	}
	if strings.Join(l.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(l.Warnings, "\n"), strings.Join(want, "\n"))
	}
	s, err := NewIOCSet([]IOCList{l})
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"203.0.113.7", "203.0.113.250", "198.51.100.8", "198.51.100.9", "198.51.100.10", "198.51.100.11", "2001:db8::1", "192.0.2.99", "192.0.2.200", "2001:db8:dead:ffff::1"} {
		if s.MatchString(ip) != 1 {
			t.Errorf("%s does not match", ip)
		}
	}
	for _, ip := range []string{"198.51.100.12", "192.0.2.98", "2001:db8::2"} {
		if s.MatchString(ip) != 0 {
			t.Errorf("%s matches", ip)
		}
	}

	// Warnings are bounded; the count is not.
	var b strings.Builder
	b.WriteString("192.0.2.1\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "user-agent %d\n", i)
	}
	l, err = ParseIOCList("ua", "ua.txt", strings.NewReader(b.String()))
	if err != nil || l.Skipped != 1000 || len(l.Warnings) != maxIOCWarnings || l.Warnings[maxIOCWarnings-1] != "more warnings left out" {
		t.Errorf("1000 bad lines: err %v, %d skipped, %d warnings", err, l.Skipped, len(l.Warnings))
	}
	// A comment-only list is empty, not an error (the config warns).
	if l, err := ParseIOCList("c", "c.txt", strings.NewReader("# nothing yet\n\n")); err != nil || l.Entries() != 0 {
		t.Errorf("comment-only list: %v, %d entries", err, l.Entries())
	}
}

// TestIOCRangesMatchPrefixes: the compiled ranges match exactly the
// addresses the prefixes contain, for random lists of overlapping,
// nested and adjacent prefixes, at and around every range's ends.
func TestIOCRangesMatchPrefixes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var prefixes []netip.Prefix
		var text strings.Builder
		for range 1 + r.IntN(200) {
			var p netip.Prefix
			if r.IntN(3) == 0 {
				var b [16]byte
				b[0], b[1], b[2] = 0x20, 0x01, byte(r.IntN(4)) // a small space: overlaps happen
				for i := 3; i < 16; i++ {
					b[i] = byte(r.IntN(256))
				}
				p = netip.PrefixFrom(netip.AddrFrom16(b), MinIOCPrefixV6+r.IntN(128-MinIOCPrefixV6+1)).Masked()
			} else {
				b := [4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}
				p = netip.PrefixFrom(netip.AddrFrom4(b), MinIOCPrefixV4+r.IntN(32-MinIOCPrefixV4+1)).Masked()
			}
			prefixes = append(prefixes, p)
			fmt.Fprintln(&text, p)
		}
		l, err := ParseIOCList("r", "r.txt", strings.NewReader(text.String()))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := NewIOCSet([]IOCList{l})
		probe := func(a netip.Addr) {
			want := false
			for _, p := range prefixes {
				want = want || p.Contains(a)
			}
			if got := s.Match(a) == 1; got != want {
				t.Fatalf("round %d: %s matched %v, want %v", round, a, got, want)
			}
		}
		for _, p := range prefixes {
			lo := p.Addr()
			hi := lastAddr(p)
			for _, a := range []netip.Addr{lo, lo.Prev(), hi, hi.Next(), lo.Next()} {
				if a.IsValid() {
					probe(a)
				}
			}
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestIOCListEntriesBounded: a list past MaxIOCEntries is refused, naming
// the line and the bound.
func TestIOCListEntriesBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range MaxIOCEntries + 1 {
		fmt.Fprintf(&b, "10.%d.%d.%d\n", i>>16, i>>8&0xff, i&0xff)
	}
	_, err := ParseIOCList("big", "big.txt", strings.NewReader(b.String()))
	want := fmt.Sprintf("big.txt:%d: more than %d addresses and prefixes, the most a list may hold", MaxIOCEntries+1, MaxIOCEntries)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}
