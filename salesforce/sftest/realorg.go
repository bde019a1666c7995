package sftest

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// realOrg holds switches for behaviours that real orgs show and that the
// facts the client was first written from did not mention.
type realOrg struct {
	// acceptHostAudience lets a JWT's aud be the server's own URL (a My
	// Domain). Real orgs have refused it with "audience is invalid".
	acceptHostAudience atomic.Bool
	// jwtAudiences are the aud values the JWT bearer flow accepts besides
	// the host; nil is a production org's: https://login.salesforce.com.
	jwtAudiences atomic.Pointer[[]string]
	// cursorLimit: 0 or negative is no limit (DefaultCursorLimit).
	cursorLimit      atomic.Int32
	cursorsReleased  atomic.Int64
	cursorsPeak      atomic.Int64
	releaseNext      atomic.Int64
	capNextPageError atomic.Bool
	endlessCursors   atomic.Bool
	// logFileRate and logFileStall: see SlowLogFiles and StallLogFiles.
	logFileRate  atomic.Int64
	logFileStall atomic.Int64
	instanceURL  atomic.Pointer[string]
	ecaShapeMu   ecaShapeState
}

// SetInstanceURL makes the token endpoint answer with this instance_url, as
// a real org does when the login host (login.salesforce.com) is not the
// org's own host. "" (the default) answers with the server's own URL, which
// is the host logged in to, as with a My Domain login_url.
func (s *Server) SetInstanceURL(u string) { s.instanceURL.Store(&u) }

// AcceptMyDomainAudience makes the JWT bearer flow accept the server's own
// URL as the aud claim. Off by default: like orgs that refused it, the fake
// accepts only the audiences SetJWTAudiences names.
func (s *Server) AcceptMyDomainAudience(on bool) { s.acceptHostAudience.Store(on) }

// SetJWTAudiences sets the aud values the JWT bearer flow accepts (besides
// the server's own URL with AcceptMyDomainAudience). By default the fake is
// a production org and accepts https://login.salesforce.com only; a sandbox
// (or scratch org) accepts https://test.salesforce.com only. Any other aud
// is "invalid_grant: audience is invalid", as in Salesforce. No argument
// restores the default.
func (s *Server) SetJWTAudiences(auds ...string) {
	if len(auds) == 0 {
		s.jwtAudiences.Store(nil)
		return
	}
	s.jwtAudiences.Store(&auds)
}

// acceptsAudience reports whether the JWT bearer flow accepts aud; host is
// the server's own URL.
func (s *Server) acceptsAudience(aud, host string) bool {
	if aud == host && s.acceptHostAudience.Load() {
		return true
	}
	auds := []string{"https://login.salesforce.com"}
	if p := s.jwtAudiences.Load(); p != nil {
		auds = *p
	}
	for _, a := range auds {
		if aud == a {
			return true
		}
	}
	return false
}

// ConcurrentLimitFault is the 403 a real org sends while too many long
// requests run at once: errorCode REQUEST_LIMIT_EXCEEDED, as for the daily
// allocation, but transient. Inject it with Count set to how many requests
// it hits.
func ConcurrentLimitFault(path string, count int) Fault {
	return Fault{Path: path, Count: count, Status: 403,
		Body: `[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`}
}

// queryTimeoutMessage is the message of a real org's QUERY_TIMEOUT.
const queryTimeoutMessage = "Your query request was running for too long."

// QueryTimeoutFault is the answer of a real org to a query that ran past its
// time limit: 400 with errorCode QUERY_TIMEOUT. It is a 400, like a
// rejected query, yet the same query may succeed on the next try. Inject it
// with MatchQuery naming the slow query and Count how many times it is slow.
func QueryTimeoutFault(matchQuery string, count int) Fault {
	return Fault{Path: "/query", Count: count, Status: 400, MatchQuery: matchQuery,
		Body: `[{"message":"` + queryTimeoutMessage + `","errorCode":"QUERY_TIMEOUT"}]`}
}

// SlowLogFiles serves log file downloads at bytesPerSecond bytes of their
// CSV a second, in steady slices (every 50 ms), as a real org serves a big
// file over a slow link: the body keeps flowing for as long as it takes.
// 0 (the default) serves them as fast as the connection allows.
func (s *Server) SlowLogFiles(bytesPerSecond int64) { s.logFileRate.Store(max(bytesPerSecond, 0)) }

// StallLogFiles makes log file downloads stop after afterBytes bytes of
// their CSV and send nothing more, the connection held open, until the
// client gives up, as a stuck transfer does. Negative (the default) turns it
// off.
func (s *Server) StallLogFiles(afterBytes int64) { s.logFileStall.Store(afterBytes + 1) }

// logFileWriter paces a log file's bytes (SlowLogFiles) or stalls them
// (StallLogFiles); w as is when neither is on. flush pushes what was
// written to the client (a gzip writer's and the response's flushes).
func (s *Server) logFileWriter(r *http.Request, w io.Writer, flush func()) io.Writer {
	rate, stall := s.logFileRate.Load(), s.logFileStall.Load()-1
	if rate <= 0 && stall < 0 {
		return w
	}
	return &pacedWriter{w: w, flush: flush, done: r.Context().Done(), rate: rate, stallAt: stall}
}

type pacedWriter struct {
	w       io.Writer
	flush   func()
	done    <-chan struct{}
	rate    int64 // bytes a second; 0 unpaced
	stallAt int64 // -1 never
	written int64
}

const paceTick = 50 * time.Millisecond

func (p *pacedWriter) Write(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		if p.stallAt >= 0 && p.written >= p.stallAt {
			p.flush()
			<-p.done // hold the connection until the client leaves
			return total, io.ErrClosedPipe
		}
		n := len(b)
		if p.rate > 0 {
			n = min(n, int(max(p.rate*int64(paceTick)/int64(time.Second), 1)))
		}
		if p.stallAt >= 0 {
			n = min(n, int(p.stallAt-p.written))
		}
		m, err := p.w.Write(b[:n])
		total += m
		p.written += int64(m)
		if err != nil {
			return total, err
		}
		b = b[n:]
		if p.rate > 0 {
			p.flush()
			select {
			case <-p.done:
				return total, io.ErrClosedPipe
			case <-time.After(paceTick):
			}
		}
	}
	return total, nil
}
