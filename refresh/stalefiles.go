package refresh

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// staleTempAge is how old a state temporary file must be before it is taken
// for a crash's leftover: a save writes and renames its file in milliseconds,
// and a one-shot command (review) may load state while the serving exporter
// is saving.
const staleTempAge = time.Minute

// removeStaleTemps deletes the temporary files an interrupted saveState left
// for this org's state file (<org>.state.json.tmp-*, the name saveState
// gives them), older than staleTempAge, with a log line each. Nothing else
// in the folder is touched.
func removeStaleTemps(dir, org string, logger *slog.Logger, now time.Time) {
	if dir == "" {
		return
	}
	matches, err := filepath.Glob(filepath.Join(dir, globEscape(filepath.Base(stateFile(dir, org)))+".tmp-*"))
	if err != nil {
		return
	}
	for _, p := range matches {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) < staleTempAge {
			continue
		}
		if err := os.Remove(p); err != nil {
			logger.Warn("Could not remove a temporary state file left by an interrupted save", "file", p, "err", err)
			continue
		}
		logger.Info("Removed a temporary state file left by an interrupted save", "file", p, "modified", fi.ModTime().UTC().Format(time.RFC3339))
	}
}

// globEscape quotes the characters filepath.Match treats as special.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}
