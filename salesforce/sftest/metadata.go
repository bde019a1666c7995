package sftest

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
)

// The Metadata API's SOAP endpoint, /services/Soap/m/<version>, for
// ConnectedApp only: listMetadata and readMetadata. As a real org, it
// answers a fault (HTTP 500) without Modify Metadata Through Metadata API
// Functions or Modify All Data (INSUFFICIENT_ACCESS), for a session it does
// not know (INVALID_SESSION_ID) and for a readMetadata of more than ten
// full names; an unknown full name reads as an empty record; an app from
// a package is listed under its namespaced full name (ns__Name); an app
// without OAuth settings has no oauthConfig; and oauthConfig carries the
// consumer key, which the client must not keep.

// maxReadMetadata is how many full names one readMetadata call takes.
const maxReadMetadata = 10

// metadataRequest decodes the calls the fake serves.
type metadataRequest struct {
	Header struct {
		SessionID string `xml:"SessionHeader>sessionId"`
	} `xml:"Header"`
	Body struct {
		List *struct {
			Types []string `xml:"queries>type"`
		} `xml:"listMetadata"`
		Read *struct {
			Type      string   `xml:"type"`
			FullNames []string `xml:"fullNames"`
		} `xml:"readMetadata"`
	} `xml:"Body"`
}

// AppFullName is the Metadata API full name of the org's app: its name
// with every character but letters and digits made an underscore, after
// its namespace prefix.
func AppFullName(a App) string {
	name := strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return '_'
	}, a.Name)
	if a.Namespace != "" {
		return a.Namespace + "__" + name
	}
	return name
}

func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.count("metadata", false)
		soapFault(w, "sf:INVALID_REQUEST", "the Metadata API takes POST only")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req metadataRequest
	if err == nil {
		err = xml.Unmarshal(raw, &req)
	}
	resource := "metadata"
	switch {
	case err != nil:
	case req.Body.List != nil:
		resource = "metadata:listMetadata"
	case req.Body.Read != nil:
		resource = "metadata:readMetadata"
	}
	s.mu.Lock()
	known := s.sessions[req.Header.SessionID]
	s.mu.Unlock()
	if err != nil || resource == "metadata" {
		s.count(resource, false)
		soapFault(w, "soapenv:Client", "Unable to parse the request: not a listMetadata or readMetadata call")
		return
	}
	if !known {
		s.count(resource, false)
		soapFault(w, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session")
		return
	}
	s.count(resource, true)
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apiUsed++
	if !o.has(PermModifyAllData) && !o.has(PermModifyMetadata) {
		soapFault(w, "sf:INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS: use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions")
		return
	}
	var b strings.Builder
	b.WriteString(xml.Header + `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`)
	if l := req.Body.List; l != nil {
		b.WriteString("<listMetadataResponse>")
		if len(l.Types) == 1 && l.Types[0] == "ConnectedApp" {
			for _, a := range o.apps {
				if a.ECA {
					continue
				}
				id := a.ID
				if o.Behavior.MetadataOwnIDs {
					id = "0Ha" + id[3:]
				}
				fmt.Fprintf(&b, "<result><createdById>005000000000001AAA</createdById><fileName>connectedApps/%s.connectedApp</fileName><fullName>%s</fullName><id>%s</id><namespacePrefix>%s</namespacePrefix><type>ConnectedApp</type></result>",
					esc(AppFullName(a)), esc(AppFullName(a)), esc(id), esc(a.Namespace))
			}
		}
		b.WriteString("</listMetadataResponse>")
	} else {
		rd := req.Body.Read
		if len(rd.FullNames) > maxReadMetadata {
			soapFault(w, "sf:LIMIT_EXCEEDED", fmt.Sprintf("LIMIT_EXCEEDED: No more than %d allowed in request", maxReadMetadata))
			return
		}
		b.WriteString("<readMetadataResponse><result>")
		for _, n := range rd.FullNames {
			a := -1
			if rd.Type == "ConnectedApp" {
				for i := range o.apps {
					if !o.apps[i].ECA && AppFullName(o.apps[i]) == n {
						a = i
						break
					}
				}
			}
			if a < 0 {
				b.WriteString(`<records xsi:nil="true"/>`)
				continue
			}
			writeConnectedApp(&b, o.apps[a])
		}
		b.WriteString("</result></readMetadataResponse>")
	}
	b.WriteString("</soapenv:Body></soapenv:Envelope>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	io.WriteString(w, b.String())
}

// writeConnectedApp writes an app's ConnectedApp record.
func writeConnectedApp(b *strings.Builder, a App) {
	fmt.Fprintf(b, `<records xsi:type="ConnectedApp"><fullName>%s</fullName><contactEmail>admin@example.com</contactEmail><label>%s</label>`, esc(AppFullName(a)), esc(a.Name))
	if !a.NoOAuthConfig {
		scopes := a.Scopes
		if scopes == nil {
			scopes = []string{"Api", "RefreshToken"}
		}
		fmt.Fprintf(b, "<oauthConfig><callbackUrl>https://app.example.com/callback</callbackUrl><consumerKey>3MVG9%s</consumerKey><isAdminApproved>%t</isAdminApproved>", esc(a.ID), a.AdminApproved)
		for _, sc := range scopes {
			fmt.Fprintf(b, "<scopes>%s</scopes>", esc(sc))
		}
		ip := a.IPRelaxation
		if ip == "" {
			ip = "ENFORCE"
		}
		refresh := "infinite"
		if a.RefreshPeriod > 0 {
			refresh = "specific_lifetime"
		}
		fmt.Fprintf(b, "</oauthConfig><oauthPolicy><ipRelaxation>%s</ipRelaxation><refreshTokenPolicy>%s</refreshTokenPolicy></oauthPolicy>", esc(ip), refresh)
	}
	b.WriteString("</records>")
}

// soapFault answers a SOAP fault, as Salesforce does: HTTP 500.
func soapFault(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `%s<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><soapenv:Fault><faultcode>%s</faultcode><faultstring>%s</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		xml.Header, esc(code), esc(msg))
}

// esc escapes text for an XML element.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
