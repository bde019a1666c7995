package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// firstString returns the first of keys that holds a non-empty string.
func firstString(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		var s string
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// keyList names the keys of an object, for errors (never its values).
func keyList(m map[string]json.RawMessage) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, truncate(k, 40))
	}
	slices.Sort(keys)
	return "[" + strings.Join(keys, ", ") + "]"
}

// decodeCollection decodes a Connect collection's array into v: under the
// first of keys present, else under the only key that holds an array.
func decodeCollection(page map[string]json.RawMessage, v any, keys ...string) error {
	for _, k := range keys {
		if raw, ok := page[k]; ok {
			return json.Unmarshal(raw, v)
		}
	}
	var arrays []string
	for k, raw := range page {
		if t := strings.TrimSpace(string(raw)); strings.HasPrefix(t, "[") {
			arrays = append(arrays, k)
		}
	}
	switch len(arrays) {
	case 1:
		return json.Unmarshal(page[arrays[0]], v)
	case 0:
		if len(page) == 0 {
			return nil
		}
		return fmt.Errorf("no array of %s in the response (keys %s)", keys[0], keyList(page))
	}
	return fmt.Errorf("several arrays and none named %s (keys %s)", keys[0], keyList(page))
}

// ECAUserTokens is one user of an External Client App and its tokens.
type ECAUserTokens struct {
	User   ECAUser
	Tokens []ECAToken
}

// ECAAppTokens reads every user of one External Client App and each user's
// tokens. An error concerns this app only: callers go on with the next app
// and report this one as degraded, rather than failing the whole source.
// Auth, API-limit and context errors are returned unwrapped, and matched by
// IsSourceWide, since the next app would meet them too.
func (c *Client) ECAAppTokens(ctx context.Context, appID string) ([]ECAUserTokens, error) {
	users, err := c.ECAUsers(ctx, appID)
	if err != nil {
		return nil, err
	}
	out := make([]ECAUserTokens, 0, len(users))
	for _, u := range users {
		toks, err := c.ECATokens(ctx, appID, u.UserIdentifier)
		if err != nil {
			return nil, err
		}
		out = append(out, ECAUserTokens{User: u, Tokens: toks})
	}
	return out, nil
}

// IsSourceWide reports whether an error would hit every later request of the
// same source too (auth, API limits, a cancelled context), as opposed to an
// error about one item (one app's odd response, a 404, a 5xx on one path).
func IsSourceWide(err error) bool {
	var authErr *AuthError
	return errors.As(err, &authErr) || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrRequestLimitExceeded) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
