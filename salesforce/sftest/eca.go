package sftest

import (
	"net/http"
)

// handleECA serves the Connect REST /apps/oauth/usage resources (filled in with the usage sources).
func (s *Server) handleECA(w http.ResponseWriter, r *http.Request, rest, version string, gz bool) {
	writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}
