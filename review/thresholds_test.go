package review

import (
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/mixin"
)

// TestThresholdsMatchTheMixin: the review's findings that mirror an alert
// use the alert's own thresholds, read from the mixin's _config.
func TestThresholdsMatchTheMixin(t *testing.T) {
	c, err := mixin.Config()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		ours float64
	}{
		{"newUnknownAppMinUsers", manyAuthorizations},
		{"apiSurgeFactor", surgeFactor},
		{"apiSurgeMinRequests", surgeMinRequests},
		{"apiErrorRatio", errorRateMax},
		{"apiErrorMinRequests", errorMinRequests},
	} {
		v, ok := c[tc.key].(float64)
		if !ok {
			t.Errorf("the mixin's _config has no number %s (%v)", tc.key, c[tc.key])
			continue
		}
		if v != tc.ours {
			t.Errorf("%s: the alert uses %v, the review %v", tc.key, v, tc.ours)
		}
	}
}
