// Command salesforce_oauth_exporter watches OAuth access to Salesforce orgs
// (connected apps and External Client Apps) and exposes it to Prometheus.
package main

import (
	"os"
	"runtime/debug"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/cli"
)

func main() {
	// A full OauthToken sync of a large org makes much short-lived garbage
	// while the token store itself is compact: collecting at 50% growth
	// instead of 100% keeps the peak resident size down for little CPU.
	// GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
