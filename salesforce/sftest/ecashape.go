package sftest

import "sync"

// ECAShape names the keys the App OAuth Usage resources use where the
// documentation is silent: the keys inside a user item, and the array key of
// a user's token collection. The token fields themselves are documented.
type ECAShape struct {
	UserIDKey   string // default "userIdentifier"
	UsernameKey string // default "username"
	TokensKey   string // default "tokens"
	// UserCount adds a userCount to each item of the app collection. Off by
	// default: the documented App OAuth Usage item has no user count, so a
	// client cannot tell from the collection which apps' users changed.
	UserCount bool
}

// ecaShapeState is the server's current ECAShape.
type ecaShapeState struct {
	mu    sync.Mutex
	shape ECAShape
}

// SetECAShape changes the undocumented keys of the App OAuth Usage
// resources; empty fields keep their default.
func (s *Server) SetECAShape(sh ECAShape) {
	s.ecaShapeMu.mu.Lock()
	defer s.ecaShapeMu.mu.Unlock()
	s.ecaShapeMu.shape = sh
}

func (s *Server) ecaShape() ECAShape {
	s.ecaShapeMu.mu.Lock()
	sh := s.ecaShapeMu.shape
	s.ecaShapeMu.mu.Unlock()
	if sh.UserIDKey == "" {
		sh.UserIDKey = "userIdentifier"
	}
	if sh.UsernameKey == "" {
		sh.UsernameKey = "username"
	}
	if sh.TokensKey == "" {
		sh.TokensKey = "tokens"
	}
	return sh
}
