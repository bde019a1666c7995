package cli

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/collector"
)

func TestShardMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := collector.NewShardMetrics(reg, 2, 3)
	m.SetOrgs(7)
	want := `
# HELP salesforce_exporter_shard_info Which shard of the orgs this replica serves (--orgs.shard of --orgs.shards); always 1.
# TYPE salesforce_exporter_shard_info gauge
salesforce_exporter_shard_info{shard="2",shards="3"} 1
# HELP salesforce_exporter_shard_orgs Orgs of the config file that this replica's shard serves.
# TYPE salesforce_exporter_shard_orgs gauge
salesforce_exporter_shard_orgs 7
# HELP salesforce_exporter_shards How many shards (--orgs.shards) this replica was told the fleet has; every shard 0 to this minus 1 needs a replica of its own.
# TYPE salesforce_exporter_shards gauge
salesforce_exporter_shards 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
