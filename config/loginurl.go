package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// checkLoginURL says what is wrong with a login_url for a flow, and what to
// write instead ("" when it is fine).
func checkLoginURL(raw, flow string) string {
	const example = "such as https://acme.my.salesforce.com"
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Sprintf("%q is not an absolute https URL: use the org's My Domain URL, %s", raw, example)
	}
	host := strings.ToLower(u.Hostname())
	origin := u.Scheme + "://" + u.Host
	if u.User != nil {
		return fmt.Sprintf("%q holds user info: credentials go in the auth files, never in the URL", redactUser(u))
	}
	if u.Scheme == "http" && !isLoopback(host) {
		return fmt.Sprintf("%q uses http: Salesforce needs https (http is accepted only for loopback hosts, for tests); use %q", raw, "https://"+u.Host)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("%q has a path: give the host only, %q (the exporter adds /services/oauth2/token and /services/data itself)", raw, origin)
	}
	if name, ok := strings.CutSuffix(host, ".lightning.force.com"); ok {
		return fmt.Sprintf("%q is the Lightning UI host, not a login host: use the My Domain URL %q", raw, "https://"+lightningToMyDomain(name))
	}
	if flow == "client_credentials" && (host == "login.salesforce.com" || host == "test.salesforce.com") {
		return fmt.Sprintf("%q does not serve the client credentials flow (Salesforce refuses it there): use the org's My Domain URL, %s, or name--sandbox.sandbox.my.salesforce.com for a sandbox", raw, example)
	}
	return ""
}

// lightningToMyDomain maps acme.lightning.force.com to acme.my.salesforce.com
// and acme--uat.sandbox.lightning.force.com to acme--uat.sandbox.my.salesforce.com.
func lightningToMyDomain(name string) string {
	if base, ok := strings.CutSuffix(name, ".sandbox"); ok {
		return base + ".sandbox.my.salesforce.com"
	}
	return name + ".my.salesforce.com"
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func redactUser(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
