package detect

import (
	"encoding/binary"
	"net/netip"
)

// appCacheSize is the number of slots of an ingest's app cache: well over
// the apps of most orgs, and small enough to stay in a CPU cache.
const appCacheSize = 1024

type appSlot struct {
	key string
	a   *stageApp
}

// appSlotOf is an app key's slot: its length and last eight bytes (where
// Ids differ) mixed. Keys that share a slot take turns in it.
func appSlotOf(k []byte) int {
	return int((fingerprint(k) * 0x9e3779b97f4a7c15) >> (64 - 10)) // 10 bits: appCacheSize
}

type ipInfo struct {
	key  netKey
	ioc  uint64
	addr netip.Addr // the address, when key is not special
}

type stageApp struct {
	key, id, name string
	first, last   int64
	rows          int64
	nets          map[netKey]*stageNet
	nets4         map[uint32]*stageNet // the IPv4 networks of nets, by address: a cheaper key
	lastNK        netKey
	lastNet       *stageNet
	overflow      *stageNet
	objs          map[string]*stageObj
	lastObjName   []byte
	lastObj       *stageObj
	sens          []int64
	ioc           []int64
	iocHits       map[[2]string]*iocHit
	decl          *declaration  // the app's declared expectations; nil for none
	outside       *outsideCount // its requests outside the declared networks
}

type stageNet struct {
	first, last int64
	young       bool
	requests    int64
	sens        []int64
	ev          *stageEvidence
	addrs       []addrSeen // its addresses, for an IOC list's re-check (recheck.go)
	lastAddr    int        // the index in addrs of the last row's address
	otherAddrs  int64      // requests of addresses past maxAddrsPerNet
}

// stageEvidence is a young network's evidence while its file is ingested;
// Commit turns the busiest into netEvidence.
type stageEvidence struct {
	net            netKey
	first, last    int64
	requests       int64
	objects, users topCount
	ioc            uint64
}

func (e *stageEvidence) commit() *netEvidence {
	return &netEvidence{net: e.net, first: e.first, last: e.last, requests: e.requests,
		objects: e.objects.counts(), users: e.users.counts(), otherUsers: e.users.other, ioc: e.ioc}
}

// evidenceSlots is the most keys a topCount holds: at least
// maxEvidenceUsers and maxEvidenceObjects.
const evidenceSlots = 8

// topCount counts the rows of the first evidenceSlots distinct keys it
// meets (users, or objects), and the rest in other: what a map capped at
// that size would hold, without hashing a key per row. A key is found by a
// scan of fingerprints; it allocates once, when it takes a slot.
type topCount struct {
	n     int
	fp    [evidenceSlots]uint64
	keys  [evidenceSlots]string
	c     [evidenceSlots]int64
	other int64
}

// fingerprint is a cheap summary of a key: its length and last eight
// bytes, where Salesforce Ids and object names differ. Equal keys have equal
// fingerprints; the key itself is compared on a match.
func fingerprint(k []byte) uint64 {
	var v uint64
	if len(k) >= 8 {
		v = binary.LittleEndian.Uint64(k[len(k)-8:])
	} else {
		for _, c := range k {
			v = v<<8 | uint64(c)
		}
	}
	return v ^ uint64(len(k))*0x9e3779b97f4a7c15
}

// add counts a row of key k; at most limit (<= evidenceSlots) keys are held.
func (t *topCount) add(k []byte, limit int) {
	fp := fingerprint(k)
	for i := range t.n {
		if t.fp[i] == fp && t.keys[i] == string(k) {
			t.c[i]++
			return
		}
	}
	if t.n >= min(limit, evidenceSlots) {
		t.other++
		return
	}
	t.fp[t.n], t.keys[t.n], t.c[t.n] = fp, string(k), 1
	t.n++
}

// addString is add for a key held elsewhere (an object's staged name): a
// slot shares its memory instead of copying it.
func (t *topCount) addString(k string, limit int) {
	fp := fingerprint([]byte(k)) // no copy: the conversion does not escape
	for i := range t.n {
		if t.fp[i] == fp && t.keys[i] == k {
			t.c[i]++
			return
		}
	}
	if t.n >= min(limit, evidenceSlots) {
		t.other++
		return
	}
	t.fp[t.n], t.keys[t.n], t.c[t.n] = fp, k, 1
	t.n++
}

func (t *topCount) counts() map[string]int64 {
	m := make(map[string]int64, t.n)
	for i := range t.n {
		m[t.keys[i]] = t.c[i]
	}
	return m
}

type stageObj struct {
	name        string // the key in objs, shared by the evidence
	first, last int64
	sens        int  // index, or -1
	folded      bool // past the caps: not staged
}
