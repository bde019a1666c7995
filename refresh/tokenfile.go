package refresh

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"math"
	"path/filepath"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/binenc"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile"
)

// The token file persists a row-mode org's token store, so that a restart
// reads only what changed since the store's watermarks instead of every
// OauthToken row. Layout (integers are varints unless said otherwise):
//
//	magic "SFOETOKS", version
//	org name, org Id (strings: length, bytes)
//	watermarks: created, used, user, last full sync (signed, Unix ms)
//	apps:  count, then name and menu item Id of each
//	users: count, then the Id of each, front-coded: the length of the
//	       prefix shared with the previous Id, then the rest (a string)
//	inactive users: count, then the ascending user indices as deltas
//	rows:  count, then five columns of count values each:
//	       created (first absolute, then deltas: rows are sorted),
//	       user index, app index, use count (signed),
//	       last used (0 = never, else 1 + zigzag(last used - created))
//	CRC-32C of everything before it (4 bytes, big-endian)
//
// Columns of small deltas and indices take about 14 bytes a token where
// the in-memory rows take 40. Every count is checked against the bytes left
// before anything is allocated, so a truncated or hostile file costs at
// most a few times its own size in memory (and the file is capped).

const (
	tokenFileMagic   = "SFOETOKS"
	tokenFileVersion = 1
	// maxTokenFile caps the file read at start: about 80 million tokens.
	maxTokenFile = 1 << 30
	// maxTokenString caps one app name or Id (AppName is a string(255)).
	maxTokenString = 64 << 10
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// tokenFile is the path of an org's token file.
func tokenFile(dir, org string) string { return filepath.Join(dir, org+".tokens") }

// encodeTokenStore serializes a valid store for org (orgID may be "").
func encodeTokenStore(s *tokenStore, org, orgID string) []byte {
	w := binenc.NewWriter(64 + len(s.entries)*14 + len(s.userIDs)*20 + len(s.appKeys)*40)
	w.RawString(tokenFileMagic)
	w.Uvarint(tokenFileVersion)
	w.String(org)
	w.String(orgID)
	for _, t := range []time.Time{s.createdWM, s.usedWM, s.userWM, s.lastFull} {
		w.UnixMilli(t)
	}
	w.Uvarint(uint64(len(s.appKeys)))
	for _, k := range s.appKeys {
		w.String(k.name)
		w.String(k.menuItem)
	}
	w.Uvarint(uint64(len(s.userIDs)))
	prevID := ""
	for _, id := range s.userIDs {
		// Front-coded: an org's user Ids share their first ten or so characters.
		shared := 0
		for shared < len(id) && shared < len(prevID) && id[shared] == prevID[shared] {
			shared++
		}
		w.Uvarint(uint64(shared))
		w.String(id[shared:])
		prevID = id
	}
	inactive := make([]bool, len(s.userIDs))
	n := 0
	for u := range s.inactive {
		if int(u) < len(inactive) && !inactive[u] {
			inactive[u] = true
			n++
		}
	}
	w.Uvarint(uint64(n))
	prev := 0
	for u, in := range inactive {
		if in {
			w.Uvarint(uint64(u - prev))
			prev = u
		}
	}
	w.Uvarint(uint64(len(s.entries)))
	var last int64
	for i := range s.entries {
		c := s.entries[i].created
		if i == 0 {
			w.Varint(c)
		} else {
			w.Uvarint(uint64(c - last))
		}
		last = c
	}
	for i := range s.entries {
		w.Uvarint(uint64(s.entries[i].user))
	}
	for i := range s.entries {
		w.Uvarint(uint64(s.entries[i].app))
	}
	for i := range s.entries {
		w.Varint(s.entries[i].useCount)
	}
	for i := range s.entries {
		e := &s.entries[i]
		if e.lastUsed == 0 {
			w.Byte(0)
			continue
		}
		w.Uvarint(zigzag(e.lastUsed-e.created) + 1)
	}
	w.Uint32BE(crc32.Checksum(w.Bytes(), crcTable))
	return w.Bytes()
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// decodeTokenStore parses a token file written for org; it returns the store
// and the org Id recorded in it.
func decodeTokenStore(b []byte, org string) (*tokenStore, string, error) {
	if len(b) < len(tokenFileMagic)+4 || string(b[:len(tokenFileMagic)]) != tokenFileMagic {
		return nil, "", errors.New("not a token file (bad magic)")
	}
	body := b[:len(b)-4]
	if sum := binary.BigEndian.Uint32(b[len(b)-4:]); sum != crc32.Checksum(body, crcTable) {
		return nil, "", errors.New("checksum mismatch: the file is damaged or truncated")
	}
	d := binenc.NewReaderAt(body[len(tokenFileMagic):], len(tokenFileMagic))
	if v := d.Uvarint("version"); d.Err() == nil && v != tokenFileVersion {
		return nil, "", fmt.Errorf("token file version %d, want %d", v, tokenFileVersion)
	}
	name, orgID := d.String("org name", maxTokenString), d.String("org Id", maxTokenString)
	if d.Err() == nil && name != org {
		return nil, "", fmt.Errorf("token file is for org %q, not %q", name, org)
	}
	var wm [4]time.Time
	for i := range wm {
		wm[i] = d.UnixMilli("watermark")
	}
	s := newTokenStore()
	s.createdWM, s.usedWM, s.userWM, s.lastFull = wm[0], wm[1], wm[2], wm[3]
	nApps := d.Count("apps", 2, math.MaxInt)
	s.appKeys = make([]appKey, 0, nApps)
	for range nApps {
		k := appKey{d.String("app name", maxTokenString), d.String("app menu item Id", maxTokenString)}
		if _, dup := s.apps[k]; dup && d.Err() == nil {
			d.Fail("apps", "app %q listed twice", k.name)
		}
		s.appIdx(k)
	}
	nUsers := d.Count("users", 2, math.MaxInt)
	s.userIDs = make([]string, 0, nUsers)
	s.users = make(map[string]uint32, nUsers)
	prevID := ""
	for range nUsers {
		shared, suffix := d.Uvarint("user Id prefix"), d.String("user Id", maxTokenString)
		if shared > uint64(len(prevID)) && d.Err() == nil {
			d.Fail("users", "user Id shares %d characters with a %d-character one", shared, len(prevID))
		}
		if d.Err() != nil {
			break
		}
		id := prevID[:shared] + suffix
		prevID = id
		if _, dup := s.users[id]; dup && d.Err() == nil {
			d.Fail("users", "user listed twice")
		}
		s.userIdx(id)
	}
	nInactive := d.Count("inactive users", 1, math.MaxInt)
	u := uint64(0)
	for i := range nInactive {
		delta := d.Uvarint("inactive user")
		if i > 0 && delta == 0 && d.Err() == nil {
			d.Fail("inactive users", "inactive user listed twice")
		}
		u += delta
		if u >= uint64(nUsers) && d.Err() == nil {
			d.Fail("inactive users", "inactive user %d of %d", u, nUsers)
		}
		s.inactive[uint32(u)] = true
	}
	nRows := d.Count("tokens", 5, math.MaxInt)
	if d.Err() != nil {
		return nil, "", d.Err()
	}
	s.entries = make([]tokEntry, nRows)
	var created int64
	for i := range s.entries {
		if i == 0 {
			created = d.Varint("created")
		} else {
			delta := d.Uvarint("created")
			if delta > 1<<62 && d.Err() == nil {
				d.Fail("created", "token %d: creation time out of range", i)
			}
			created += int64(delta)
		}
		s.entries[i].created = created
	}
	for i := range s.entries {
		if v := d.Uvarint("user index"); v < uint64(nUsers) {
			s.entries[i].user = uint32(v)
		} else if d.Err() == nil {
			d.Fail("user index", "token %d: user %d of %d", i, v, nUsers)
		}
	}
	for i := range s.entries {
		if v := d.Uvarint("app index"); v < uint64(nApps) {
			s.entries[i].app = uint32(v)
		} else if d.Err() == nil {
			d.Fail("app index", "token %d: app %d of %d", i, v, nApps)
		}
	}
	for i := range s.entries {
		s.entries[i].useCount = d.Varint("use count")
	}
	for i := range s.entries {
		if v := d.Uvarint("last used"); v > 0 {
			s.entries[i].lastUsed = s.entries[i].created + unzigzag(v-1)
		}
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Fail("", "%d bytes left over", d.Len())
	}
	if d.Err() != nil {
		return nil, "", d.Err()
	}
	for i := 1; i < len(s.entries); i++ {
		if s.entries[i-1].less(&s.entries[i]) > 0 {
			return nil, "", fmt.Errorf("token %d is out of order", i)
		}
	}
	if s.createdWM.Before(s.lastFull) || s.lastFull.UnixMilli() <= 0 {
		return nil, "", fmt.Errorf("watermarks out of order: last full sync %s, created %s", s.lastFull.Format(time.RFC3339), s.createdWM.Format(time.RFC3339))
	}
	s.valid = true
	return s, orgID, nil
}

// loadTokenStore reads an org's token file. A missing file returns nil. A
// file that can't be read or decoded is set aside (never deleted) with a log
// line, and nil is returned: the caller reads every token, as on a first
// start.
func loadTokenStore(dir, org string, logger *slog.Logger) (*tokenStore, string) {
	p := tokenFile(dir, org)
	s, orgID, err := readTokenFile(p, org)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	if err != nil {
		setAside(p, "Token store file", "a full OauthToken read follows", err, logger)
		return nil, ""
	}
	return s, orgID
}

func readTokenFile(p, org string) (*tokenStore, string, error) {
	b, _, err := regfile.ReadFile(p, maxTokenFile)
	var nr *regfile.NotRegularError
	var tl *regfile.TooLargeError
	switch {
	case errors.As(err, &nr), errors.As(err, &tl):
		return nil, "", fmt.Errorf("token file is %w", err)
	case err != nil:
		return nil, "", err
	}
	return decodeTokenStore(b, org)
}

// saveTokenStore writes a valid store atomically (writeAtomic).
func saveTokenStore(dir, org, orgID string, s *tokenStore) (int, error) {
	b := encodeTokenStore(s, org, orgID)
	if err := writeAtomic(dir, tokenFile(dir, org), b); err != nil {
		return 0, fmt.Errorf("token store: %w", err)
	}
	return len(b), nil
}
