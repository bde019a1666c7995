package refresh

import "time"

// The files of an org that the exporter writes in --storage.path, as the
// file label of the storage metrics names them.
const (
	StorageFileState  = "state"  // <org>.state.json: first-seen times, API usage, history, detection
	StorageFileTokens = "tokens" // <org>.tokens: the row-mode token store
)

// StorageWrite is how writing one of an org's files has gone since the
// refresher started. A full disk or a read-only volume shows here, and in
// the exporter's log, while the exporter goes on serving from memory.
type StorageWrite struct {
	Failures    int64     // failed writes
	LastSuccess time.Time // zero before the first write that succeeded
	LastFailure time.Time // zero before the first write that failed
	LastError   string    // why the latest write failed; "" once one succeeds
}

// storageWrites records the writes of an org's files. The refresher and its
// sources run in one goroutine, so it needs no lock.
type storageWrites map[string]*StorageWrite

func newStorageWrites() storageWrites {
	return storageWrites{StorageFileState: {}, StorageFileTokens: {}}
}

// record counts one write of file, done at now.
func (w storageWrites) record(file string, err error, now time.Time) {
	if w == nil {
		return
	}
	s := w[file]
	if s == nil {
		s = &StorageWrite{}
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
func (w storageWrites) snapshot() map[string]StorageWrite {
	out := make(map[string]StorageWrite, len(w))
	for k, v := range w {
		out[k] = *v
	}
	return out
}
