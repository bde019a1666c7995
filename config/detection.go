package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
)

// Detection configures the network and object baselines that catch a stolen
// token used at a normal volume (the detection: section). Every field is
// optional.
type Detection struct {
	// IPv4Prefix and IPv6Prefix group client addresses into networks.
	IPv4Prefix int `yaml:"ipv4_prefix"`
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// MinBaseline: an app's networks and objects count as new only once the
	// exporter has watched it this long.
	MinBaseline Duration `yaml:"min_baseline"`
	// SensitiveObjects get their own request counts (an object label).
	SensitiveObjects []string `yaml:"sensitive_objects"`
	// MaxNetworksPerApp and MaxObjectsPerApp bound the baseline; the least
	// recently seen go first.
	MaxNetworksPerApp int `yaml:"max_networks_per_app"`
	MaxObjectsPerApp  int `yaml:"max_objects_per_app"`
	// IOCLists are files of known-bad addresses, one CIDR or address a line.
	IOCLists []IOCListConfig `yaml:"ioc_lists"`

	ioc *detect.IOCSet
	// refused is, by list name, the digest of the content a reload last
	// refused for shrinking (GuardIOCReload).
	refused map[string]uint64
}

// IOCListConfig names one IOC list file.
type IOCListConfig struct {
	Name string `yaml:"name"`
	File string `yaml:"file"`
}

// TrackerConfig is the detect package's config, defaults filled in.
func (d *Detection) TrackerConfig() detect.Config {
	return detect.Config{
		IPv4Prefix: d.IPv4Prefix, IPv6Prefix: d.IPv6Prefix, MinBaseline: time.Duration(d.MinBaseline),
		SensitiveObjects: d.SensitiveObjects, MaxNetworksPerApp: d.MaxNetworksPerApp, MaxObjectsPerApp: d.MaxObjectsPerApp,
	}.WithDefaults()
}

// IOC is the compiled IOC lists, read when the config was loaded (so a
// reload reads the files again); nil when there are none.
func (d *Detection) IOC() *detect.IOCSet { return d.ioc }

// iocNameRE: a list name becomes the value of the list label.
var iocNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// detection validates the detection: section, fills in its defaults and
// reads the IOC lists.
func (v *validator) detection() error {
	d := &v.cfg.Detection
	at := func(keys ...any) []any { return append([]any{"detection"}, keys...) }
	if d.IPv4Prefix == 0 {
		d.IPv4Prefix = detect.DefaultIPv4Prefix
	}
	if d.IPv6Prefix == 0 {
		d.IPv6Prefix = detect.DefaultIPv6Prefix
	}
	if d.IPv4Prefix < 8 || d.IPv4Prefix > 32 {
		return v.errf("detection.ipv4_prefix", at("ipv4_prefix"), "%d is outside 8..32 (24 groups an office or cloud subnet)", d.IPv4Prefix)
	}
	if d.IPv6Prefix < 16 || d.IPv6Prefix > 128 {
		return v.errf("detection.ipv6_prefix", at("ipv6_prefix"), "%d is outside 16..128 (48 groups one site)", d.IPv6Prefix)
	}
	if d.MinBaseline == 0 {
		d.MinBaseline = Duration(detect.DefaultMinBaseline)
	}
	if d.MinBaseline < 0 {
		return v.errf("detection.min_baseline", at("min_baseline"), "must be positive")
	}
	if d.MaxNetworksPerApp == 0 {
		d.MaxNetworksPerApp = detect.DefaultMaxNetworksPerApp
	}
	if d.MaxNetworksPerApp < 10 || d.MaxNetworksPerApp > 100000 {
		return v.errf("detection.max_networks_per_app", at("max_networks_per_app"), "%d is outside 10..100000", d.MaxNetworksPerApp)
	}
	if d.MaxObjectsPerApp == 0 {
		d.MaxObjectsPerApp = detect.DefaultMaxObjectsPerApp
	}
	if d.MaxObjectsPerApp < 10 || d.MaxObjectsPerApp > 100000 {
		return v.errf("detection.max_objects_per_app", at("max_objects_per_app"), "%d is outside 10..100000", d.MaxObjectsPerApp)
	}
	if d.SensitiveObjects == nil {
		d.SensitiveObjects = detect.DefaultSensitiveObjects
	}
	if len(d.SensitiveObjects) > 50 {
		return v.errf("detection.sensitive_objects", at("sensitive_objects"), "%d objects: at most 50 (each is a series per app)", len(d.SensitiveObjects))
	}
	seen := map[string]bool{}
	for i, o := range d.SensitiveObjects {
		if err := (detect.Config{SensitiveObjects: []string{o}}).WithDefaults().Validate(); err != nil || seen[o] {
			msg := fmt.Sprintf("%q is not an object API name such as Account or Invoice__c", o)
			if seen[o] {
				msg = fmt.Sprintf("%q is listed twice", o)
			}
			return v.errf(fmt.Sprintf("detection.sensitive_objects[%d]", i), at("sensitive_objects", i), "%s", msg)
		}
		seen[o] = true
	}
	if len(d.IOCLists) > detect.MaxIOCLists {
		return v.errf("detection.ioc_lists", at("ioc_lists"), "%d lists: at most %d", len(d.IOCLists), detect.MaxIOCLists)
	}
	var lists []detect.IOCList
	names := map[string]bool{}
	for i, l := range d.IOCLists {
		key := func(k string) string { return fmt.Sprintf("detection.ioc_lists[%d].%s", i, k) }
		if !iocNameRE.MatchString(l.Name) {
			return v.errf(key("name"), at("ioc_lists", i, "name"), "%q must be 1 to 64 letters, digits, '_', '.' or '-' (it is the list label's value)", l.Name)
		}
		if names[l.Name] {
			return v.errf(key("name"), at("ioc_lists", i, "name"), "list %q is listed twice", l.Name)
		}
		names[l.Name] = true
		if l.File == "" {
			return v.errf(key("file"), at("ioc_lists", i), "is required: a file with one address or CIDR a line")
		}
		p := l.File
		if !filepath.IsAbs(p) {
			p = filepath.Join(v.dir, p)
		}
		list, err := detect.LoadIOCFile(l.Name, p)
		if err != nil {
			if u := errors.Unwrap(err); u != nil {
				err = u
			}
			return v.errf(key("file"), at("ioc_lists", i, "file"), "%v", err)
		}
		if list.Entries() == 0 {
			v.cfg.Warnings = append(v.cfg.Warnings, fmt.Sprintf("%s: %s holds no addresses", key("file"), p))
		}
		for _, w := range list.Warnings {
			v.cfg.Warnings = append(v.cfg.Warnings, fmt.Sprintf("%s: %s", key("file"), w))
		}
		if list.Skipped > 0 {
			v.cfg.Warnings = append(v.cfg.Warnings, fmt.Sprintf("%s: %s: skipped %d lines that hold no IP address or CIDR prefix; read %d addresses and prefixes", key("file"), p, list.Skipped, list.Entries()))
		}
		lists = append(lists, list)
	}
	set, err := detect.NewIOCSet(lists)
	if err != nil {
		return v.errf("detection.ioc_lists", at("ioc_lists"), "%v", err)
	}
	if len(lists) > 0 {
		d.ioc = set
	}
	return nil
}

// IOCRefusal is an IOC list that a reload read empty or much smaller than
// the list in force: the list in force was kept.
type IOCRefusal struct {
	List, File   string
	Entries, Was int
}

func (r IOCRefusal) String() string {
	if r.Entries == 0 {
		return fmt.Sprintf("ioc list %q: %s now holds no addresses (it held %d): kept the list in force. A file caught while it was rewritten in place reads so; write a new file and rename it over the old one. To drop the list, remove it from detection.ioc_lists", r.List, r.File, r.Was)
	}
	return fmt.Sprintf("ioc list %q: %s now holds %d addresses and prefixes, less than half the %d of the list in force: kept the list in force. A file caught while it was rewritten in place reads so; if the shrink is meant, reload again: the same content read twice in a row is taken", r.List, r.File, r.Entries, r.Was)
}

// GuardIOCReload protects the IOC lists in force (prev's) from a reload
// that read a list mid-rewrite (`cat new > list` empties the file first):
// a list of d that holds no entries where the one in force held some, or
// fewer than half its entries (and at least minIOCShrink fewer), is
// replaced in d by the list in force, and returned. A shrink (not to
// empty) read with the same content at two reloads in a row is taken: the
// file is stable, so the shrink is meant.
func (d *Detection) GuardIOCReload(prev *Detection) ([]IOCRefusal, error) {
	if prev == nil || prev.ioc == nil || d.ioc == nil {
		return nil, nil
	}
	old := map[string]detect.IOCList{}
	for _, l := range prev.ioc.Lists() {
		old[l.Name] = l
	}
	var refused []IOCRefusal
	lists := slices.Clone(d.ioc.Lists())
	for i, l := range lists {
		was, ok := old[l.Name]
		if !ok || l.Entries() >= was.Entries() {
			continue
		}
		n, w := l.Entries(), was.Entries()
		shrunk := n == 0 || (2*n < w && w-n >= minIOCShrink)
		if !shrunk {
			continue
		}
		if n > 0 && prev.refused[l.Name] == l.Digest {
			continue // read twice in a row: meant
		}
		if d.refused == nil {
			d.refused = map[string]uint64{}
		}
		d.refused[l.Name] = l.Digest
		refused = append(refused, IOCRefusal{List: l.Name, File: l.File, Entries: n, Was: w})
		lists[i] = was
	}
	if len(refused) == 0 {
		return nil, nil
	}
	set, err := detect.NewIOCSet(lists)
	if err != nil {
		return nil, err
	}
	d.ioc = set
	return refused, nil
}

// minIOCShrink is the least drop in entries that counts as a sharp shrink:
// a small list edited by hand may well halve.
const minIOCShrink = 10
