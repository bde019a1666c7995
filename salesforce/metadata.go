package salesforce

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The Metadata API's ConnectedApp holds what ConnectedApplication does not
// show to SOQL: the OAuth scopes an app may be granted (oauthConfig.scopes)
// and its IP relaxation (oauthPolicy.ipRelaxation). It is a SOAP API at
// /services/Soap/m/<version>, and every call of it needs Modify Metadata
// Through Metadata API Functions or Modify All Data: far more than the rest
// of the exporter, which is why the source that reads it is opt-in.

// MaxMetadataBytes bounds a Metadata API response: a readMetadata answer of
// ten connected apps is some tens of KB, a listMetadata answer of
// MaxMetadataApps apps about a MB.
const MaxMetadataBytes = 4 << 20

// MaxMetadataApps bounds the connected apps AppMetadata reads: a list call
// and a read call per MetadataReadBatch of them.
const MaxMetadataApps = 2000

// MetadataReadBatch is how many full names one readMetadata call may take.
const MetadataReadBatch = 10

// AppMetadata is the part of a connected app's Metadata API ConnectedApp
// the exporter reads. The consumer key and secret it may also hold are
// never decoded.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_connectedapp.htm
type AppMetadata struct {
	// FullName is the app's API name, with its namespace prefix
	// (ns__Name) when it came from a package.
	FullName string
	// ID is the Id listMetadata gives it (the ConnectedApplication's).
	ID string
	// HasOAuth: the app has an oauthConfig (an app for SAML or canvas only
	// has none, and so no scopes).
	HasOAuth bool
	// Scopes are oauthConfig.scopes as the API spells them (Full, Api,
	// RefreshToken, ...).
	Scopes []string
	// IPRelaxation is oauthPolicy.ipRelaxation (ENFORCE, BYPASS_2FA,
	// BYPASS, ...); "" when the app has no OAuth policy.
	IPRelaxation string
}

// soapEnvelope is a request: the session in the header, one call in the body.
type soapEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Header  struct {
		Session struct {
			XMLName   xml.Name `xml:"http://soap.sforce.com/2006/04/metadata SessionHeader"`
			SessionID string   `xml:"sessionId"`
		}
	} `xml:"Header"`
	Body struct {
		Call any
	} `xml:"Body"`
}

type listMetadataCall struct {
	XMLName     xml.Name `xml:"http://soap.sforce.com/2006/04/metadata listMetadata"`
	Type        string   `xml:"queries>type"`
	AsOfVersion string   `xml:"asOfVersion"`
}

type readMetadataCall struct {
	XMLName   xml.Name `xml:"http://soap.sforce.com/2006/04/metadata readMetadata"`
	Type      string   `xml:"type"`
	FullNames []string `xml:"fullNames"`
}

// soapResponse decodes both calls' answers and a fault; the fields of the
// call not made stay empty.
type soapResponse struct {
	Body struct {
		Fault *struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
		} `xml:"Fault"`
		List []struct {
			FullName string `xml:"fullName"`
			ID       string `xml:"id"`
		} `xml:"listMetadataResponse>result"`
		Records []struct {
			FullName    string `xml:"fullName"`
			OauthConfig *struct {
				Scopes []string `xml:"scopes"`
			} `xml:"oauthConfig"`
			OauthPolicy *struct {
				IPRelaxation string `xml:"ipRelaxation"`
			} `xml:"oauthPolicy"`
		} `xml:"readMetadataResponse>result>records"`
	} `xml:"Body"`
}

// ErrMetadataTooMany is returned when the org has more connected apps than
// MaxMetadataApps.
var ErrMetadataTooMany = errors.New("too many connected apps")

// AppMetadata reads the OAuth scopes and IP relaxation of every connected
// app through the Metadata API: listMetadata for their full names, then
// readMetadata for MetadataReadBatch of them a call. It returns the calls
// it made, even with an error. A full name listed but not read (an app
// deleted between the calls) is left out.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_readMetadata.htm
func (c *Client) AppMetadata(ctx context.Context) ([]AppMetadata, int, error) {
	calls := 1
	list, err := c.soapCall(ctx, "metadata:listMetadata", listMetadataCall{Type: "ConnectedApp", AsOfVersion: c.apiVersion})
	if err != nil {
		return nil, calls, fmt.Errorf("listMetadata ConnectedApp (Metadata API): %w", err)
	}
	if len(list.Body.List) > MaxMetadataApps {
		return nil, calls, fmt.Errorf("listMetadata ConnectedApp (Metadata API): %w: over %d; the exporter reads at most that many", ErrMetadataTooMany, MaxMetadataApps)
	}
	ids := make(map[string]string, len(list.Body.List))
	names := make([]string, 0, len(list.Body.List))
	for _, r := range list.Body.List {
		if r.FullName == "" {
			continue
		}
		if _, dup := ids[r.FullName]; !dup {
			names = append(names, r.FullName)
		}
		ids[r.FullName] = r.ID
	}
	out := make([]AppMetadata, 0, len(names))
	for start := 0; start < len(names); start += MetadataReadBatch {
		batch := names[start:min(start+MetadataReadBatch, len(names))]
		calls++
		resp, err := c.soapCall(ctx, "metadata:readMetadata", readMetadataCall{Type: "ConnectedApp", FullNames: batch})
		if err != nil {
			return nil, calls, fmt.Errorf("readMetadata ConnectedApp (Metadata API): %w", err)
		}
		asked := map[string]bool{}
		for _, n := range batch {
			asked[n] = true
		}
		for _, r := range resp.Body.Records {
			// An unknown name comes back as an empty record.
			if !asked[r.FullName] {
				continue
			}
			delete(asked, r.FullName)
			m := AppMetadata{FullName: r.FullName, ID: ids[r.FullName]}
			if r.OauthConfig != nil {
				m.HasOAuth = true
				m.Scopes = r.OauthConfig.Scopes
			}
			if r.OauthPolicy != nil {
				m.IPRelaxation = strings.TrimSpace(r.OauthPolicy.IPRelaxation)
			}
			out = append(out, m)
		}
	}
	return out, calls, nil
}

// soapCall posts one Metadata API call and decodes its answer.
func (c *Client) soapCall(ctx context.Context, resource string, call any) (*soapResponse, error) {
	build := func(session string) ([]byte, error) {
		var env soapEnvelope
		env.Header.Session.SessionID = session
		env.Body.Call = call
		b, err := xml.Marshal(env)
		if err != nil {
			return nil, err
		}
		return append([]byte(xml.Header), b...), nil
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/services/Soap/m/" + c.apiVersion, resource: resource, soap: build})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out soapResponse
	if err := xml.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode the SOAP response: %w", err)
	}
	if f := out.Body.Fault; f != nil {
		return nil, faultError(resp, f.Code, f.String, "")
	}
	return &out, nil
}

// soapError turns a failed SOAP response into an *APIError: a fault gives
// its code (without the sf: prefix) and message; anything else is read as
// newAPIError reads it. The session never shows in the error.
func soapError(resp *http.Response, session string) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var out soapResponse
	if xml.Unmarshal(body, &out) == nil && out.Body.Fault != nil {
		return faultError(resp, out.Body.Fault.Code, out.Body.Fault.String, session)
	}
	e := &APIError{StatusCode: resp.StatusCode, Method: resp.Request.Method, Path: resp.Request.URL.Path}
	e.Details, e.Body = ParseErrorBody(body)
	return e
}

// faultError builds the *APIError of a SOAP fault.
func faultError(resp *http.Response, code, msg, session string) *APIError {
	if i := strings.LastIndex(code, ":"); i >= 0 { // sf:INSUFFICIENT_ACCESS
		code = code[i+1:]
	}
	if code == "" {
		code = "SOAP_FAULT"
	}
	if session != "" {
		msg = strings.ReplaceAll(msg, session, "[session]")
	}
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		status = http.StatusInternalServerError
	}
	return &APIError{StatusCode: status, Method: resp.Request.Method, Path: resp.Request.URL.Path,
		Details: []ErrorDetail{{ErrorCode: truncate(code, 80), Message: truncate(msg, 300)}}}
}
