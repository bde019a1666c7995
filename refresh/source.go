package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// source is one kind of data the refresher reads from an org. Each source is
// one file (source_*.go) that owns its state between refreshes and declares
// its Spec (spec.go); only the refresher's run goroutine calls it.
type source interface {
	// refresh reads the source from the org. On error the source keeps what
	// it read last, which the snapshot goes on showing.
	refresh(ctx context.Context, e *env) error
	// contribute adds what the source last read to the inputs of the join (snapshot.Build).
	contribute(p *snapshot.Parts)
}

// env is what a source's refresh may use: the org's client and config, the
// settings in force, and the org's persistent state.
type env struct {
	client   *salesforce.Client
	org      config.Org
	settings *Settings
	logger   *slog.Logger
	state    *orgState
	dirty    *bool
	tracker  *detect.Tracker // the org's detection baseline (detection.go)
	// storage is the folder of the org's files ("" for none); readOnly
	// sources read their files there but never write them.
	storage  string
	readOnly bool
	// oneShot: no later refresh completes this one (Refresher.SetOneShot).
	oneShot bool
	writes  storageWrites // nil when nothing is written
	// oauthTokensComplete is set when the oauth_tokens source is enabled,
	// has read the org and sees every user's tokens: External Client App
	// tokens, which are OauthToken rows too, then come from it.
	oauthTokensComplete bool
	// tokens is the oauth_tokens source's row store, when it reads rows
	// (nil otherwise): the posture source reads the token holders there.
	// Only the refresher's run goroutine touches it.
	tokens *tokenStore
}

// stateChanged marks the org's state for saving at the next publish.
func (e *env) stateChanged() { *e.dirty = true }

// wrote records a write of one of the org's files (StorageFileState...).
func (e *env) wrote(file string, err error) { e.writes.record(file, err, time.Now()) }

// timeoutSetter is implemented by a source whose refresh may need longer
// than the org's refresh timeout (a full OauthToken read).
type timeoutSetter interface {
	timeout(now time.Time, org config.Org) time.Duration
}

// errPermission marks a source that failed for want of a permission.
var errPermission = errors.New("missing permission")

// permissionError wraps a 403, or an INVALID_TYPE for an object the user
// can't see, with the permission the source needs.
func permissionError(err error, perm string) error {
	if salesforce.IsObjectRefused(err) {
		return fmt.Errorf("%w %s: %w", errPermission, perm, err)
	}
	return err
}
