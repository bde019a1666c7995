package detect

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile"
)

// MaxIOCLists is how many IOC lists one tracker matches at once (a bit each).
const MaxIOCLists = 64

// IOCList is a named list of CIDR prefixes of known bad addresses.
type IOCList struct {
	Name     string
	Prefixes []netip.Prefix
}

// ParseIOCList reads a list: one address or CIDR per line; '#' starts a
// comment; blank lines are skipped. An error names the file and line.
func ParseIOCList(name, file string, r io.Reader) (IOCList, error) {
	l := IOCList{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			if err == nil && a.Zone() != "" {
				return l, fmt.Errorf("%s:%d: %q has an IPv6 zone; write the address without %%zone", file, line, truncate(s, 60))
			}
			if err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return l, fmt.Errorf("%s:%d: %q is not an IP address or CIDR prefix such as 203.0.113.0/24", file, line, truncate(s, 60))
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		l.Prefixes = append(l.Prefixes, p.Masked())
	}
	if err := sc.Err(); err != nil {
		return l, fmt.Errorf("%s:%d: %w", file, line+1, err)
	}
	return l, nil
}

// MaxIOCFileBytes is the largest IOC list file accepted: room for about two
// million lines of CIDR prefixes with comments.
const MaxIOCFileBytes = 64 << 20

// LoadIOCFile reads an IOC list from a file: a regular file (a symbolic
// link to one is fine) of at most MaxIOCFileBytes. A FIFO, a device such as
// /dev/zero or a directory is refused without being read, so a reload can
// neither hang nor read without end.
func LoadIOCFile(name, path string) (IOCList, error) {
	fail := func(err error) (IOCList, error) {
		return IOCList{Name: name}, fmt.Errorf("ioc list %q: %w", name, err)
	}
	f, err := regfile.Open(path, MaxIOCFileBytes)
	var nr *regfile.NotRegularError
	var tl *regfile.TooLargeError
	switch {
	case errors.As(err, &nr):
		return fail(fmt.Errorf("%s is %w: give a plain file with one address or CIDR prefix a line", path, nr))
	case errors.As(err, &tl):
		return fail(fmt.Errorf("%s is %d bytes, more than the %d an IOC list may hold: is this the right file?", path, tl.Size, MaxIOCFileBytes))
	case err != nil:
		return fail(err)
	}
	defer f.Close()
	l, err := ParseIOCList(name, path, f)
	if errors.As(err, &tl) {
		return IOCList{Name: name}, fmt.Errorf("ioc list %q: %s grew past the %d bytes an IOC list may hold while it was read", name, path, MaxIOCFileBytes)
	}
	if err != nil {
		return l, err
	}
	// A list cut short while it was read would lose addresses unseen.
	if err := f.Whole(); err != nil {
		return IOCList{Name: name}, fmt.Errorf("ioc list %q: %s %w", name, path, err)
	}
	return l, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// IOCSet matches addresses against up to MaxIOCLists lists. It is immutable
// and safe for concurrent use. A lookup masks the address to each prefix
// length the lists use and looks the result up in a hash map: a handful of
// lookups, whatever the number of prefixes.
type IOCSet struct {
	names []string
	v4    []v4Table // by prefix length, longest first
	v6    []v6Table
}

type v4Table struct {
	bits int
	m    map[uint32]uint64
}

type v6Table struct {
	bits int
	m    map[[2]uint64]uint64
}

// NewIOCSet compiles lists into a matcher. Names must be unique.
func NewIOCSet(lists []IOCList) (*IOCSet, error) {
	if len(lists) > MaxIOCLists {
		return nil, fmt.Errorf("%d ioc lists: at most %d", len(lists), MaxIOCLists)
	}
	s := &IOCSet{}
	v4 := map[int]map[uint32]uint64{}
	v6 := map[int]map[[2]uint64]uint64{}
	for i, l := range lists {
		if l.Name == "" {
			return nil, fmt.Errorf("ioc list %d has no name", i)
		}
		if slices.Contains(s.names, l.Name) {
			return nil, fmt.Errorf("ioc list %q is listed twice", l.Name)
		}
		s.names = append(s.names, l.Name)
		bit := uint64(1) << i
		for _, p := range l.Prefixes {
			p = p.Masked()
			if p.Addr().Is4() {
				if v4[p.Bits()] == nil {
					v4[p.Bits()] = map[uint32]uint64{}
				}
				b := p.Addr().As4()
				v4[p.Bits()][binary.BigEndian.Uint32(b[:])] |= bit
				continue
			}
			if v6[p.Bits()] == nil {
				v6[p.Bits()] = map[[2]uint64]uint64{}
			}
			b := p.Addr().As16()
			v6[p.Bits()][[2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}] |= bit
		}
	}
	for bits, m := range v4 {
		s.v4 = append(s.v4, v4Table{bits, m})
	}
	for bits, m := range v6 {
		s.v6 = append(s.v6, v6Table{bits, m})
	}
	slices.SortFunc(s.v4, func(a, b v4Table) int { return b.bits - a.bits })
	slices.SortFunc(s.v6, func(a, b v6Table) int { return b.bits - a.bits })
	return s, nil
}

// Names are the list names, in order: bit i of a Match result is Names()[i].
func (s *IOCSet) Names() []string {
	if s == nil {
		return nil
	}
	return s.names
}

// Match returns the lists holding a, as a bit mask.
func (s *IOCSet) Match(a netip.Addr) uint64 {
	if s == nil || !a.IsValid() {
		return 0
	}
	a = a.WithZone("").Unmap()
	var m uint64
	if a.Is4() {
		b := a.As4()
		return s.matchV4(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for _, t := range s.v6 {
		h, l := mask128(hi, lo, t.bits)
		m |= t.m[[2]uint64{h, l}]
	}
	return m
}

// MatchString matches a CLIENT_IP or SourceIp value; special values never match.
func (s *IOCSet) MatchString(ip string) uint64 {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return 0
	}
	return s.Match(a)
}

// listNames turns a mask into names.
func (s *IOCSet) listNames(mask uint64) []string {
	var out []string
	for i, n := range s.Names() {
		if mask&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// matchV4 is Match for an IPv4 address given as a number.
func (s *IOCSet) matchV4(v uint32) uint64 {
	if s == nil {
		return 0
	}
	var m uint64
	for _, t := range s.v4 {
		k := v
		if t.bits < 32 {
			k &^= (1 << (32 - t.bits)) - 1
		}
		if t.bits == 0 {
			k = 0
		}
		m |= t.m[k]
	}
	return m
}
