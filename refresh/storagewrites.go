package refresh

import (
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// storageWrites records the writes of an org's files. The refresher and its
// sources run in one goroutine, so it needs no lock.
type storageWrites map[string]*snapshot.StorageWrite

func newStorageWrites() storageWrites {
	return storageWrites{snapshot.StorageFileState: {}, snapshot.StorageFileTokens: {}}
}

// record counts one write of file, done at now.
func (w storageWrites) record(file string, err error, now time.Time) {
	if w == nil {
		return
	}
	s := w[file]
	if s == nil {
		s = &snapshot.StorageWrite{}
		w[file] = s
	}
	if err != nil {
		s.Failures++
		s.LastError, s.LastFailure = err.Error(), now
		return
	}
	s.LastSuccess, s.LastError = now, ""
}

// snapshot copies the figures for a Snapshot.
func (w storageWrites) snapshot() map[string]snapshot.StorageWrite {
	out := make(map[string]snapshot.StorageWrite, len(w))
	for k, v := range w {
		out[k] = *v
	}
	return out
}
