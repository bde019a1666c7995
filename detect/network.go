package detect

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Default prefix lengths that group addresses into networks: a /24 is one
// office, NAT pool or cloud subnet; a /48 is one IPv6 site.
const (
	DefaultIPv4Prefix = 24
	DefaultIPv6Prefix = 48
)

// Kinds of network. The special buckets are never "new" and never match an
// IOC list: Salesforce writes "Salesforce.com IP" for its own internal
// callers, and an empty or unparsable CLIENT_IP says nothing about where a
// request came from.
const (
	kindV4 uint8 = iota + 1
	kindV6
	kindSalesforce
	kindEmpty
	kindInvalid
)

// Bucket names of the special networks, as String and the review show them.
const (
	BucketSalesforce = "Salesforce.com IP"
	BucketEmpty      = "(empty)"
	BucketInvalid    = "(unparsable)"
)

// netKey is a network: an address masked to the configured prefix length,
// or a special bucket.
type netKey struct {
	hi, lo uint64
	kind   uint8
}

func (k netKey) special() bool { return k.kind >= kindSalesforce }

// grouper masks addresses into networks.
type grouper struct {
	v4, v6 int // prefix lengths
}

var salesforceIP = []byte("Salesforce.com IP")

// key groups one CLIENT_IP or SourceIp value. It does not allocate for
// IPv4 addresses and the special values; addr is the parsed address, valid
// when the key is not special.
func (g grouper) key(b []byte) (netKey, netip.Addr) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return netKey{kind: kindEmpty}, netip.Addr{}
	}
	if v, ok := parseV4(b); ok {
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		return g.keyV4(v), a
	}
	if bytes.EqualFold(b, salesforceIP) {
		return netKey{kind: kindSalesforce}, netip.Addr{}
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netKey{kind: kindInvalid}, netip.Addr{}
	}
	return g.addrKey(a), a.WithZone("").Unmap()
}

// addrKey groups a parsed address.
func (g grouper) addrKey(a netip.Addr) netKey {
	a = a.WithZone("").Unmap()
	if a.Is4() {
		b := a.As4()
		return g.keyV4(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	hi, lo = mask128(hi, lo, g.v6)
	return netKey{hi: hi, lo: lo, kind: kindV6}
}

func (g grouper) keyV4(v uint32) netKey {
	if g.v4 < 32 {
		v &^= (1 << (32 - g.v4)) - 1
	}
	return netKey{lo: uint64(v), kind: kindV4}
}

func mask128(hi, lo uint64, bits int) (uint64, uint64) {
	switch {
	case bits <= 0:
		return 0, 0
	case bits < 64:
		return hi &^ (1<<(64-bits) - 1), 0
	case bits == 64:
		return hi, 0
	case bits < 128:
		return hi, lo &^ (1<<(128-bits) - 1)
	}
	return hi, lo
}

// remask groups a key of a longer prefix into a shorter one (a state file
// written with /24 read with /16). ok is false when the new prefix is longer:
// the finer networks can't be recovered.
func (g grouper) remask(k netKey, oldV4, oldV6 int) (netKey, bool) {
	switch k.kind {
	case kindV4:
		if g.v4 > oldV4 {
			return k, false
		}
		return g.keyV4(uint32(k.lo)), true
	case kindV6:
		if g.v6 > oldV6 {
			return k, false
		}
		k.hi, k.lo = mask128(k.hi, k.lo, g.v6)
		return k, true
	}
	return k, true
}

// String renders a network as a CIDR ("203.0.113.0/24") or a bucket name.
func (g grouper) String(k netKey) string {
	switch k.kind {
	case kindV4:
		v := uint32(k.lo)
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), g.v4).String()
	case kindV6:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.hi)
		binary.BigEndian.PutUint64(b[8:], k.lo)
		return netip.PrefixFrom(netip.AddrFrom16(b), g.v6).String()
	case kindSalesforce:
		return BucketSalesforce
	case kindEmpty:
		return BucketEmpty
	}
	return BucketInvalid
}

// parseV4 parses a dotted-quad IPv4 address without allocating. Like
// net/netip it refuses leading zeros, which some tools read as octal.
func parseV4(b []byte) (uint32, bool) {
	if len(b) < 7 || len(b) > 15 {
		return 0, false
	}
	var v uint32
	octets, val, digits := 0, uint32(0), 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || val > 255 {
				return 0, false
			}
			v = v<<8 | val
			octets++
			val, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if digits > 0 && val == 0 {
			return 0, false // leading zero
		}
		val = val*10 + uint32(c-'0')
		digits++
		if digits > 3 {
			return 0, false
		}
	}
	return v, octets == 4
}

// checkPrefixes validates prefix lengths.
func checkPrefixes(v4, v6 int) error {
	if v4 < 8 || v4 > 32 {
		return fmt.Errorf("ipv4 prefix length %d is outside 8..32", v4)
	}
	if v6 < 16 || v6 > 128 {
		return fmt.Errorf("ipv6 prefix length %d is outside 16..128", v6)
	}
	return nil
}
