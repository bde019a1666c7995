package refresh

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// A moved org keeps its memory. Replicas that share --storage.path (a
// shared volume) find an org's state where its last owner wrote it: when
// sharding moves the org, the new owner starts from its first-seen times,
// history and detection baseline. One writer at a time: each org's files
// are written only by the holder of its lease, <org>.lease, which names the
// holder (--storage.lease-holder, the host name by default: a restarted
// process takes its own lease back at once) and an expiry. The holder
// renews it at every publish; another replica reads the state when it
// starts (so it serves with the org's memory from its first minute) and
// writes nothing, holding no lease, until the lease is released (the org
// left the holder, or the holder stopped) or expired (it died); then it
// takes the lease and writes its own state, which holds what it read at
// start and everything it saw since. An HA pair (two replicas that own the
// same org on purpose) so has one writer and one reader: neither corrupts
// the other's state, and the reader takes over when the writer goes.

// maxLeaseFile bounds a lease file: a holder name and a time.
const maxLeaseFile = 4096

// leaseFile is an org's lease.
func leaseFile(dir, org string) string { return filepath.Join(dir, org+".lease") }

// lease is what a lease file holds.
type lease struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

// readLease reads an org's lease; a missing file is no lease (zero).
func readLease(dir, org string) (lease, error) {
	p := leaseFile(dir, org)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return lease{}, nil
	}
	if err != nil {
		return lease{}, fmt.Errorf("read lease %s: %w", p, err)
	}
	defer f.Close()
	var l lease
	b := make([]byte, maxLeaseFile+1)
	n, _ := f.Read(b)
	if n > maxLeaseFile {
		return lease{}, fmt.Errorf("read lease %s: over %d bytes: delete it, the holder writes it again", p, maxLeaseFile)
	}
	if err := json.Unmarshal(b[:n], &l); err != nil {
		// A damaged lease holds nobody back: the next holder rewrites it.
		return lease{}, nil
	}
	return l, nil
}

// acquireLease takes or renews an org's lease for holder until now+ttl. It
// returns false, with the lease in force, when another holder's lease has
// not expired. Two replicas that take a free lease at the same moment both
// write it; the rename keeps one, and only the one it names holds it (each
// reads it back).
func acquireLease(dir, org, holder string, now time.Time, ttl time.Duration) (bool, lease, error) {
	l, err := readLease(dir, org)
	if err != nil {
		return false, l, err
	}
	if l.Holder != "" && l.Holder != holder && now.Before(l.Expires) {
		return false, l, nil
	}
	b, err := json.Marshal(lease{Holder: holder, Expires: now.Add(ttl).UTC()})
	if err != nil {
		return false, l, err
	}
	if err := writeAtomic(dir, leaseFile(dir, org), b); err != nil {
		return false, l, fmt.Errorf("write lease: %w", err)
	}
	back, err := readLease(dir, org)
	if err != nil {
		return false, back, err
	}
	return back.Holder == holder, back, nil
}

// releaseLease ends holder's lease of an org at once, so that the next
// owner need not wait for it to expire. Another holder's lease is left.
func releaseLease(dir, org, holder string, now time.Time) error {
	l, err := readLease(dir, org)
	if err != nil || l.Holder != holder {
		return err
	}
	b, err := json.Marshal(lease{Holder: holder, Expires: now.UTC()})
	if err != nil {
		return err
	}
	return writeAtomic(dir, leaseFile(dir, org), b)
}

// leaseState is a refresher's hold on its org's lease.
type leaseState struct {
	holder   string        // "" when leases are off
	ttl      time.Duration // how long a lease lasts unrenewed
	follower bool          // another replica holds the lease: write nothing
}

// SetLease makes the refresher write its org's files only while it holds
// the org's lease (lease.go), as holder, renewed for ttl at every publish.
func (r *Refresher) SetLease(holder string, ttl time.Duration) {
	r.lease.holder, r.lease.ttl = holder, ttl
}

// leased reports whether the org's files are written under a lease.
func (r *Refresher) leased() bool {
	return r.lease.holder != "" && r.lease.ttl > 0 && r.storage != "" && !r.readOnly
}

// noWrite reports whether the refresher must leave the org's files alone:
// a one-shot command's, or while another replica holds the lease.
func (r *Refresher) noWrite() bool { return r.readOnly || r.lease.follower }

// checkLease takes or renews the org's lease, at the start and at every
// publish. A lease that cannot be read or written is the storage's fault,
// not another holder: the refresher goes on writing as it did (the writes
// meet the same fault, and count it in the storage metrics), and says so
// once.
func (r *Refresher) checkLease() {
	if !r.leased() {
		return
	}
	ok, l, err := acquireLease(r.storage, r.org.Name, r.lease.holder, r.now(), r.lease.ttl)
	if err != nil {
		if !r.warned["lease"] {
			r.warned["lease"] = true
			r.logger.Error("Could not take or renew the org's storage lease; writing as before", "err", err)
		}
		return
	}
	delete(r.warned, "lease")
	switch {
	case ok && r.lease.follower:
		r.lease.follower, r.dirty = false, true
		r.logger.Info("Took the org's storage lease: writing its state from now on", "holder", r.lease.holder)
	case !ok && !r.lease.follower:
		r.lease.follower = true
		r.logger.Warn("Another replica holds the org's storage lease: serving from its state as read now, writing nothing until the lease is released or expires", "holder", l.Holder, "expires", l.Expires)
	}
}

// endLease releases the org's lease when the refresher stops (the org left
// this replica, or the process stops), so the next owner takes it at once.
func (r *Refresher) endLease() {
	if !r.leased() || r.lease.follower {
		return
	}
	if err := releaseLease(r.storage, r.org.Name, r.lease.holder, r.now()); err != nil {
		r.logger.Warn("Could not release the org's storage lease; the next owner takes it when it expires", "err", err, "expires_in", r.lease.ttl)
	}
}

// leaseStatus is the snapshot's StorageLease.
func (r *Refresher) leaseStatus() string {
	switch {
	case !r.leased():
		return ""
	case r.lease.follower:
		return snapshot.StorageLeaseElsewhere
	default:
		return snapshot.StorageLeaseHeld
	}
}
