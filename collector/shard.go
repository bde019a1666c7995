package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// ShardMetrics says which part of a fleet of orgs this replica serves.
type ShardMetrics struct {
	orgs prometheus.Gauge
}

// NewShardMetrics registers salesforce_exporter_shard_info{shard,shards},
// salesforce_exporter_shards and salesforce_exporter_shard_orgs on reg.
func NewShardMetrics(reg prometheus.Registerer, shard, shards int) *ShardMetrics {
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "salesforce_exporter_shard_info",
		Help:        "Which shard of the orgs this replica serves (--orgs.shard of --orgs.shards); always 1.",
		ConstLabels: prometheus.Labels{"shard": strconv.Itoa(shard), "shards": strconv.Itoa(shards)},
	})
	info.Set(1)
	// The count again, as a value: PromQL cannot compare a label with the
	// number of replicas it counts, and a fleet with fewer replicas than
	// shards leaves the missing shards' orgs watched by nobody.
	count := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "salesforce_exporter_shards",
		Help: "How many shards (--orgs.shards) this replica was told the fleet has; every shard 0 to this minus 1 needs a replica of its own.",
	})
	count.Set(float64(shards))
	m := &ShardMetrics{orgs: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "salesforce_exporter_shard_orgs",
		Help: "Orgs of the config file that this replica's shard serves.",
	})}
	reg.MustRegister(info, count, m.orgs)
	return m
}

// SetOrgs records how many orgs the shard serves.
func (m *ShardMetrics) SetOrgs(n int) { m.orgs.Set(float64(n)) }
