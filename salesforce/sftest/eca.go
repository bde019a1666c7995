package sftest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleECA serves the Connect REST /apps/oauth/usage resources: the app
// collection, each app's users, and each user's tokens. Collections page with
// page and pageSize; nextPageUrl is present on every page, and a page past the
// end is empty.
func (s *Server) handleECA(w http.ResponseWriter, r *http.Request, rest, version string, gz bool) {
	o := s.org
	o.mu.RLock()
	defer o.mu.RUnlock()
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	size, err := strconv.Atoi(q.Get("pageSize"))
	if err != nil || size <= 0 {
		size = 25
	}
	size = min(size, 100)
	base := "/services/data/v" + version + "/apps/oauth/usage" + rest
	pageURL := func(p int) string { return base + "?page=" + strconv.Itoa(p) + "&pageSize=" + strconv.Itoa(size) }
	window := func(n int) (int, int) {
		lo := min(page*size, n)
		return lo, min(lo+size, n)
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	out := map[string]any{"currentPageUrl": pageURL(page), "nextPageUrl": pageURL(page + 1)}
	switch {
	case rest == "" || rest == "/":
		lo, hi := window(len(o.ecas))
		apps := []map[string]any{}
		withCount := s.ecaShape().UserCount
		for i := range o.ecas[lo:hi] {
			e := &o.ecas[lo+i]
			app := map[string]any{"identifier": e.id, "developerName": e.developerName, "label": e.name}
			if withCount {
				users, _ := o.ecaUsersLocked(e)
				app["userCount"] = len(users)
			}
			apps = append(apps, app)
		}
		out["apps"] = apps
	case len(parts) == 2 && parts[1] == "users":
		e := o.findECA(parts[0])
		if e == nil {
			writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		all, _ := o.ecaUsersLocked(e)
		lo, hi := window(len(all))
		users := []map[string]any{}
		for _, u := range all[lo:hi] {
			sh := s.ecaShape()
			users = append(users, map[string]any{sh.UserIDKey: o.users[u].ID, sh.UsernameKey: o.users[u].Username})
		}
		out["users"] = users
	case len(parts) == 3 && parts[2] == "tokens":
		e := o.findECA(parts[0])
		if e == nil {
			writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		tokens := []map[string]any{}
		_, byUser := o.ecaUsersLocked(e)
		if u, ok := o.userIdx[parts[1]]; ok {
			for i, r := range byUser[u] {
				t := &o.tokens[r]
				var last time.Time
				if t.lastUsed > 0 {
					last = time.UnixMilli(t.lastUsed)
				}
				tokens = append(tokens, map[string]any{
					"accessTokenFormat": "Opaque", "appDeveloperName": e.developerName, "appIdentifier": e.id,
					"initialConnectionAt": fmtTime(time.UnixMilli(t.created).UTC()), "lastUsedAt": fmtTime(last), "useCount": t.useCount,
					"userIdentifier": o.users[u].ID, "username": o.users[u].Username,
					"revocationUrl": base + "/" + strconv.Itoa(i),
				})
			}
		}
		out = map[string]any{s.ecaShape().TokensKey: tokens}
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	b, _ := json.Marshal(out)
	body(w, gz, b)
}

func (o *Org) findECA(id string) *eca {
	for i := range o.ecas {
		if o.ecas[i].id == id {
			return &o.ecas[i]
		}
	}
	return nil
}
