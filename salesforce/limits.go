package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// APIUsage is the org's API use as reported by the Sforce-Limit-Info header.
type APIUsage struct {
	Used, Max int64
	// App is the per-app part (per-app-api-usage=17/250(appName=x)), when the header carries one.
	App *AppAPIUsage
}

// AppAPIUsage is the per-connected-app part of Sforce-Limit-Info.
type AppAPIUsage struct {
	Name      string
	Used, Max int64
}

// ParseLimitInfo parses a Sforce-Limit-Info header value such as
// "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)".
func ParseLimitInfo(h string) (APIUsage, error) {
	var u APIUsage
	found := false
	for part := range strings.SplitSeq(h, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return APIUsage{}, fmt.Errorf("invalid Sforce-Limit-Info part %q", truncate(part, 60))
		}
		switch strings.TrimSpace(k) {
		case "api-usage":
			used, limit, err := parseRatio(v)
			if err != nil {
				return APIUsage{}, fmt.Errorf("invalid Sforce-Limit-Info api-usage: %w", err)
			}
			u.Used, u.Max, found = used, limit, true
		case "per-app-api-usage":
			ratio, rest, _ := strings.Cut(v, "(")
			used, limit, err := parseRatio(ratio)
			if err != nil {
				return APIUsage{}, fmt.Errorf("invalid Sforce-Limit-Info per-app-api-usage: %w", err)
			}
			name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(rest), "appName="), ")")
			u.App = &AppAPIUsage{Name: name, Used: used, Max: limit}
		}
	}
	if !found {
		return APIUsage{}, fmt.Errorf("invalid Sforce-Limit-Info %q: no api-usage", truncate(h, 60))
	}
	return u, nil
}

func parseRatio(s string) (int64, int64, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not used/max", truncate(s, 40))
	}
	used, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	limit, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if err1 != nil || err2 != nil || used < 0 || limit < 0 {
		return 0, 0, fmt.Errorf("%q is not two non-negative integers", truncate(s, 40))
	}
	return used, limit, nil
}

// Limit is one entry of /limits.
type Limit struct {
	Max       int64
	Remaining int64
}

// Limits is the /limits response: each top-level key with its Max and Remaining.
// Nested sub-limits (per-app entries of DailyApiRequests, say) are skipped.
type Limits map[string]Limit

// UnmarshalJSON reads Max and Remaining of each key and ignores anything else.
func (l *Limits) UnmarshalJSON(b []byte) error {
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode limits: %w", err)
	}
	out := make(Limits, len(raw))
	for name, fields := range raw {
		var lim Limit
		maxOK := json.Unmarshal(fields["Max"], &lim.Max) == nil
		remOK := json.Unmarshal(fields["Remaining"], &lim.Remaining) == nil
		if maxOK && remOK {
			out[name] = lim
		}
	}
	*l = out
	return nil
}

// Limits calls /limits, which needs View Setup and Configuration.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
func (c *Client) Limits(ctx context.Context) (Limits, error) {
	var l Limits
	if err := c.getJSON(ctx, "limits", c.dataPath("limits/"), &l); err != nil {
		return nil, fmt.Errorf("get limits: %w", err)
	}
	return l, nil
}
