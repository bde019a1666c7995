package sftest

import "math/rand/v2"

// SandboxRefresh replaces the org as a sandbox refresh does: the same My
// Domain and credentials, a new org Id, and token rows that differ from the
// old org's while their count and dates stay the same. What a refresh copies
// is not documented; this is the case that must not fool a client that kept
// the old org's rows, since COUNT() and the date watermarks can't tell.
func (o *Org) SandboxRefresh(seed uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.OrgID = makeID("00D", 2+int(seed%10_000))
	r := rand.New(rand.NewPCG(seed, 17))
	for i := range o.tokens {
		o.tokens[i].useCount = int32(r.IntN(500))
	}
}

// orgID reads the org Id under the lock (SandboxRefresh changes it).
func (o *Org) orgID() string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.OrgID
}
