package review

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
)

// InventoryFormat is the review command's bootstrap of the approved
// inventory: an `inventory:` block in the config's format, listing every app
// the orgs have today, to review and fill in.
const InventoryFormat = "inventory"

// CommandFormats are the review command's formats: the report's, and the
// inventory bootstrap.
var CommandFormats = append(slices.Clone(Formats), InventoryFormat)

// writeInventory writes the inventory block. Each app is keyed by its Id
// when known (an Id is per org, so the entry names its org), with its name
// beside it for the reader; owner and purpose are kept from an entry that
// already approves the app, else left empty to fill in. Salesforce's own
// internal apps are left out: they hold no OAuth tokens.
func writeInventory(w io.Writer, reports []*Report) error {
	bw := bufio.NewWriter(w)
	var orgs []string
	for _, r := range reports {
		orgs = append(orgs, r.Org)
	}
	generated := time.Now().UTC()
	if len(reports) > 0 {
		generated = reports[0].GeneratedAt.UTC()
	}
	fmt.Fprintf(bw, "# The apps of %s on %s, from `salesforce_oauth_exporter review --format=inventory`.\n", strings.Join(orgs, ", "), generated.Format(time.RFC3339))
	fmt.Fprintf(bw, "# Review each entry: fill in owner and purpose, delete the apps you do not\n")
	fmt.Fprintf(bw, "# approve, then make this the config file's inventory (it replaces any\n")
	fmt.Fprintf(bw, "# inventory: block there) and reload the exporter. Apps are matched by app_id\n")
	fmt.Fprintf(bw, "# in their org; app is the name, for you to read.\n")
	fmt.Fprintf(bw, "inventory:\n")
	n := 0
	for _, r := range reports {
		for _, a := range r.Inventory {
			if a.Kind == snapshot.KindSalesforceInternal {
				continue
			}
			n++
			last := "never used"
			if !a.LastUsed.IsZero() {
				last = "last used " + a.LastUsed.UTC().Format("2006-01-02")
			}
			state := "not approved yet"
			if a.Known {
				state = "already approved"
			}
			fmt.Fprintf(bw, "  # %s, %d users, %d tokens, %d API requests in 7 days, %s; %s\n", kindName(a.Kind), a.Users, a.Tokens, a.Requests7d, last, state)
			fmt.Fprintf(bw, "  - app: %s\n", textsafe.YAMLQuote(a.App))
			if a.AppID != "" {
				fmt.Fprintf(bw, "    app_id: %s\n", textsafe.YAMLQuote(a.AppID))
			}
			fmt.Fprintf(bw, "    owner: %s\n", textsafe.YAMLQuote(a.Owner))
			fmt.Fprintf(bw, "    purpose: %s\n", textsafe.YAMLQuote(a.Purpose))
			fmt.Fprintf(bw, "    orgs: [%s]\n", textsafe.YAMLQuote(r.Org))
			if len(a.DeclaredNetworks) > 0 {
				fmt.Fprintf(bw, "    networks: [%s]\n", quoteAll(a.DeclaredNetworks))
			}
			if len(a.DeclaredObjects) > 0 {
				fmt.Fprintf(bw, "    objects: [%s]\n", quoteAll(a.DeclaredObjects))
			}
			if len(a.Networks) > 0 && len(a.DeclaredNetworks) == 0 {
				// A starting point, not a declaration: only the owner knows
				// the app's egress ranges.
				fmt.Fprintf(bw, "    # The networks it was seen calling from (most recent first); check them\n")
				fmt.Fprintf(bw, "    # with the owner, widen them to its egress ranges, then uncomment:\n")
				fmt.Fprintf(bw, "    # networks: [%s]\n", quoteAll(a.Networks))
			}
		}
	}
	if n == 0 {
		// An empty list, still loadable.
		fmt.Fprintf(bw, "  []\n")
	}
	return bw.Flush()
}

func quoteAll(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = textsafe.YAMLQuote(s)
	}
	return strings.Join(out, ", ")
}

func kindName(kind string) string {
	switch kind {
	case snapshot.KindConnectedApp:
		return "connected app"
	case snapshot.KindExternalClientApp:
		return "External Client App"
	}
	return kind
}
