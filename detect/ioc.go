package detect

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile"
)

// MaxIOCLists is how many IOC lists one tracker matches at once (a bit each).
const MaxIOCLists = 64

// IOCList is a named list of CIDR prefixes of known bad addresses,
// compiled into sorted, merged address ranges (8 bytes a range for IPv4,
// 32 for IPv6), whatever the file held.
type IOCList struct {
	Name string
	// File is where the list was read from (LoadIOCFile).
	File string
	// Digest is a hash of the lines read, to tell one content from another.
	Digest uint64
	// Prefixes are prefixes given in code; NewIOCSet compiles them with
	// the ranges ParseIOCList read.
	Prefixes []netip.Prefix

	v4 []v4Range
	v6 []v6Range
	// entries is the number of addresses and prefixes read.
	entries int
	// Skipped is the number of lines that hold no address or prefix
	// (user agents, domains, hashes: an advisory's other indicators).
	Skipped int
	// Warnings say what was skipped or changed, with file:line; at most
	// maxIOCWarnings, the last of them saying how many more there were.
	Warnings []string
}

// Entries is the number of addresses and prefixes the list holds, as
// written (before ranges that overlap or touch are merged).
func (l IOCList) Entries() int { return l.entries + len(l.Prefixes) }

type v4Range struct{ lo, hi uint32 }

type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) next() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

type v6Range struct{ lo, hi u128 }

// Bounds of an IOC list's contents.
const (
	// MaxIOCEntries is the most addresses and prefixes one list may hold:
	// about 8 MB compiled when they are all IPv4, 32 MB all IPv6.
	MaxIOCEntries = 1_000_000
	// MinIOCPrefixV4 and MinIOCPrefixV6 are the shortest prefixes a list
	// may hold: a /0 (or a /4) would put every address, every app, on the
	// list. A /8 is a whole regional allocation already.
	MinIOCPrefixV4 = 8
	MinIOCPrefixV6 = 16
	// maxIOCWarnings bounds the warnings kept per list.
	maxIOCWarnings = 20
)

// refang undoes an advisory's defanging of an address: 203.0.113[.]7,
// 203.0.113(.)7, 203.0.113{.}7, 203.0.113[dot]7, 2001:db8[:]:1, and
// surrounding brackets or quotes. Only these forms are undone.
var refanger = strings.NewReplacer("[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "[:]", ":", "(:)", ":", "[/]", "/")

// ParseIOCList reads a list: one address or CIDR per line; '#' starts a
// comment; blank lines are skipped. A list as an advisory publishes it
// reads too: a UTF-8 byte order mark is ignored, defanged addresses
// (203.0.113[.]7) are refanged, an address followed by other fields (a
// comma, tab or space, then anything) is taken, and a line that holds no
// address (a user agent, a domain) is skipped, counted and warned about
// with its file:line. A prefix with host bits set is widened to its
// network, with a warning.
//
// An error, naming the file and line, is returned for a prefix shorter than
// MinIOCPrefixV4 or MinIOCPrefixV6, an address with an IPv6 zone, more
// than MaxIOCEntries entries, or lines that hold something and not one
// address among them.
func ParseIOCList(name, file string, r io.Reader) (IOCList, error) {
	l := IOCList{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	var firstSkip string
	h := fnv.New64a()
	warn := func(format string, args ...any) {
		switch {
		case len(l.Warnings) < maxIOCWarnings-1:
			l.Warnings = append(l.Warnings, fmt.Sprintf(format, args...))
		case len(l.Warnings) == maxIOCWarnings-1:
			l.Warnings = append(l.Warnings, "more warnings left out")
		}
	}
	for sc.Scan() {
		line++
		_, _ = h.Write(sc.Bytes())
		_, _ = h.Write([]byte{'\n'})
		s := sc.Text()
		if line == 1 {
			s = strings.TrimPrefix(s, "\uFEFF")
		}
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := parseIOCEntry(s)
		var zone *zoneError
		switch {
		case errors.As(err, &zone):
			return l, fmt.Errorf("%s:%d: %q has an IPv6 zone; write the address without %%zone", file, line, truncate(s, 60))
		case err != nil:
			l.Skipped++
			if firstSkip == "" {
				firstSkip = fmt.Sprintf("%s:%d: %q", file, line, truncate(s, 60))
			}
			warn("%s:%d: %q is not an IP address or CIDR prefix such as 203.0.113.0/24; skipped", file, line, truncate(s, 60))
			continue
		}
		p = unmapPrefix(p)
		if minBits := iocMinBits(p.Addr()); p.Bits() < minBits {
			return l, fmt.Errorf("%s:%d: %s is shorter than /%d: it would match a large part of the Internet (every app would page); list the attacker's own networks", file, line, p, minBits)
		}
		if m := p.Masked(); m != p {
			warn("%s:%d: %s has host bits set; read as %s", file, line, p, m)
			p = m
		}
		if l.entries >= MaxIOCEntries {
			return l, fmt.Errorf("%s:%d: more than %d addresses and prefixes, the most a list may hold: split it, or merge addresses into prefixes", file, line, MaxIOCEntries)
		}
		l.entries++
		l.add(p)
	}
	if err := sc.Err(); err != nil {
		return l, fmt.Errorf("%s:%d: %w", file, line+1, err)
	}
	if l.entries == 0 && l.Skipped > 0 {
		return l, fmt.Errorf("%s: none of its %d lines with content holds an IP address or CIDR prefix (the first: %s): is this the right file?", file, l.Skipped, firstSkip)
	}
	l.compact()
	l.Digest = h.Sum64()
	return l, nil
}

// zoneError is an IPv6 address with a zone: a typo to report, not a line to skip.
type zoneError struct{}

func (*zoneError) Error() string { return "IPv6 zone" }

// parseIOCEntry reads an address or prefix from a line's content: as it
// is, refanged, or the first field of either.
func parseIOCEntry(s string) (netip.Prefix, error) {
	p, err := parsePrefixOrAddr(s)
	if err == nil {
		return p, nil
	}
	var zone *zoneError
	if errors.As(err, &zone) {
		return p, err
	}
	r := strings.Trim(refanger.Replace(s), "\"'`<>")
	if f := strings.FieldsFunc(r, func(c rune) bool { return c == ',' || c == ';' || c == '|' || c == ' ' || c == '\t' }); len(f) > 0 {
		r = strings.Trim(f[0], "\"'`<>[]")
	}
	if r == s {
		return p, err
	}
	return parsePrefixOrAddr(r)
}

func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, &zoneError{}
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func iocMinBits(a netip.Addr) int {
	if a.Is4() {
		return MinIOCPrefixV4
	}
	return MinIOCPrefixV6
}

// add appends a masked prefix's range.
func (l *IOCList) add(p netip.Prefix) {
	if p.Addr().Is4() {
		b := p.Addr().As4()
		lo := binary.BigEndian.Uint32(b[:])
		hi := lo | uint32((uint64(1)<<(32-p.Bits()))-1)
		l.v4 = append(l.v4, v4Range{lo, hi})
		return
	}
	b := p.Addr().As16()
	lo := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
	hi := lo
	switch bits := p.Bits(); {
	case bits <= 64:
		hi.hi |= (uint64(1) << (64 - bits)) - 1
		hi.lo = ^uint64(0)
	default:
		hi.lo |= (uint64(1) << (128 - bits)) - 1
	}
	l.v6 = append(l.v6, v6Range{lo, hi})
}

// compact sorts the ranges and merges those that overlap or touch, in place.
func (l *IOCList) compact() {
	slices.SortFunc(l.v4, func(a, b v4Range) int { return cmp.Compare(a.lo, b.lo) })
	out := l.v4[:0]
	for _, r := range l.v4 {
		if n := len(out); n > 0 && (r.lo <= out[n-1].hi || out[n-1].hi != ^uint32(0) && r.lo == out[n-1].hi+1) {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	l.v4 = slices.Clip(out)
	slices.SortFunc(l.v6, func(a, b v6Range) int {
		if a.lo.less(b.lo) {
			return -1
		}
		if b.lo.less(a.lo) {
			return 1
		}
		return 0
	})
	out6 := l.v6[:0]
	for _, r := range l.v6 {
		if n := len(out6); n > 0 {
			last := &out6[n-1]
			if !last.hi.less(r.lo) || (last.hi != (u128{^uint64(0), ^uint64(0)}) && last.hi.next() == r.lo) {
				if last.hi.less(r.hi) {
					last.hi = r.hi
				}
				continue
			}
		}
		out6 = append(out6, r)
	}
	l.v6 = slices.Clip(out6)
}

// containsV4 reports whether the list holds v.
func (l *IOCList) containsV4(v uint32) bool {
	i, _ := slices.BinarySearchFunc(l.v4, v, func(r v4Range, v uint32) int { return cmp.Compare(r.lo, v) })
	// i is the first range starting after v (or at it).
	if i < len(l.v4) && l.v4[i].lo == v {
		return true
	}
	return i > 0 && v <= l.v4[i-1].hi
}

// containsV6 reports whether the list holds a.
func (l *IOCList) containsV6(a u128) bool {
	i, _ := slices.BinarySearchFunc(l.v6, a, func(r v6Range, a u128) int {
		switch {
		case r.lo.less(a):
			return -1
		case a.less(r.lo):
			return 1
		}
		return 0
	})
	if i < len(l.v6) && l.v6[i].lo == a {
		return true
	}
	return i > 0 && !l.v6[i-1].hi.less(a)
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
	l.File = path
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
// and safe for concurrent use. A lookup is a binary search in each list's
// sorted ranges.
type IOCSet struct {
	names []string
	lists []IOCList
}

// unmapPrefix reads an IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/n) as the
// IPv4 prefix it maps.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() {
		return netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
	}
	return p
}

// NewIOCSet compiles lists into a matcher. Names must be unique.
func NewIOCSet(lists []IOCList) (*IOCSet, error) {
	if len(lists) > MaxIOCLists {
		return nil, fmt.Errorf("%d ioc lists: at most %d", len(lists), MaxIOCLists)
	}
	s := &IOCSet{}
	for i, l := range lists {
		if l.Name == "" {
			return nil, fmt.Errorf("ioc list %d has no name", i)
		}
		if slices.Contains(s.names, l.Name) {
			return nil, fmt.Errorf("ioc list %q is listed twice", l.Name)
		}
		s.names = append(s.names, l.Name)
		if len(l.Prefixes) > 0 {
			c := l
			c.v4, c.v6 = slices.Clone(l.v4), slices.Clone(l.v6)
			for _, p := range l.Prefixes {
				c.add(unmapPrefix(p).Masked())
			}
			c.compact()
			l = c
		}
		s.lists = append(s.lists, l)
	}
	return s, nil
}

// Lists are the compiled lists, in order.
func (s *IOCSet) Lists() []IOCList {
	if s == nil {
		return nil
	}
	return s.lists
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
	if a.Is4() {
		b := a.As4()
		return s.matchV4(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	v := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
	var m uint64
	for i := range s.lists {
		if s.lists[i].containsV6(v) {
			m |= 1 << i
		}
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
	for i := range s.lists {
		if s.lists[i].containsV4(v) {
			m |= 1 << i
		}
	}
	return m
}
