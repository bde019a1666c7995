// Package config loads and checks the exporter's YAML configuration file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Config is the whole file.
type Config struct {
	// StaleAfter: a token unused for this long is stale.
	StaleAfter Duration         `yaml:"stale_after"`
	Orgs       []Org            `yaml:"orgs"`
	Inventory  []InventoryEntry `yaml:"inventory"`
	Detection  Detection        `yaml:"detection"`
	// MaxAppsPerOrg caps the apps exported per org; the rest are summed
	// into one app="(other)" series.
	MaxAppsPerOrg int `yaml:"max_apps_per_org"`

	// File is the path the config was read from.
	File string `yaml:"-"`
	// Warnings are problems that don't stop the exporter (a secret file readable by others).
	Warnings []string `yaml:"-"`
}

// Org is one Salesforce org to watch.
type Org struct {
	Name            string   `yaml:"name"`
	LoginURL        string   `yaml:"login_url"`
	APIVersion      string   `yaml:"api_version"`
	RefreshInterval Duration `yaml:"refresh_interval"`
	// Timeout bounds one refresh of one source.
	Timeout Duration `yaml:"timeout"`
	// APIBudgetPercent is the share of the org's DailyApiRequests the exporter may use.
	APIBudgetPercent float64 `yaml:"api_budget_percent"`
	// FullSyncInterval is how often OauthToken is re-read in full, whatever the counts say.
	FullSyncInterval Duration `yaml:"full_sync_interval"`
	// MaxConcurrency bounds the exporter's concurrent requests to this org.
	MaxConcurrency int                     `yaml:"max_concurrency"`
	Sources        map[string]SourceConfig `yaml:"sources"`
	Auth           Auth                    `yaml:"auth"`
	// ThreatEventsReviewedUntil acknowledges the Threat Detection events
	// the org stored (CreatedDate) at or before it: the exporter stops
	// counting them, so their alerts resolve. Zero acknowledges none.
	ThreatEventsReviewedUntil time.Time `yaml:"threat_events_reviewed_until"`
	// Stream is the org's real-time event stream; off by default.
	Stream Stream `yaml:"stream"`

	// Secrets read from the *_file paths.
	secrets salesforce.AuthConfig
}

// SourceConfig turns a source off or gives it its own interval.
type SourceConfig struct {
	Enabled  *bool    `yaml:"enabled"`
	Interval Duration `yaml:"interval"`
}

// Auth is how the exporter logs in to an org. Secrets are only ever files.
type Auth struct {
	Flow             string `yaml:"flow"`
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	Username         string `yaml:"username"`
	PrivateKeyFile   string `yaml:"private_key_file"`
	Audience         string `yaml:"audience"`
	RefreshTokenFile string `yaml:"refresh_token_file"`
	PasswordFile     string `yaml:"password_file"`
}

// InventoryEntry is one approved app.
type InventoryEntry struct {
	App     string   `yaml:"app"`
	AppID   string   `yaml:"app_id"`
	Owner   string   `yaml:"owner"`
	Purpose string   `yaml:"purpose"`
	Orgs    []string `yaml:"orgs"`
	// Networks are the CIDR prefixes (or addresses) the app's API requests
	// and OAuth logins are expected to come from; traffic from elsewhere is
	// exported and alerted on with no baseline needed. Empty: none declared.
	Networks []string `yaml:"networks"`
	// Objects are the objects (ENTITY_NAME) the app is expected to touch.
	Objects []string `yaml:"objects"`

	networks []netip.Prefix // Networks, parsed
}

// Defaults.
const (
	DefaultStaleAfter       = 90 * 24 * time.Hour
	DefaultMaxAppsPerOrg    = 5000
	DefaultRefreshInterval  = 5 * time.Minute
	DefaultTimeout          = 4 * time.Minute
	DefaultAPIBudgetPercent = 1.0
	DefaultFullSyncInterval = 24 * time.Hour
	DefaultMaxConcurrency   = 8
)

// DefaultSourceIntervals are the cadences of sources whose data changes slowly
// or is published slowly (log files appear hours after the fact).
var DefaultSourceIntervals = map[string]time.Duration{
	SourceAPIUsage: 30 * time.Minute,
	SourceECAs:     15 * time.Minute,
	SourceApps:     15 * time.Minute,
	SourcePosture:  time.Hour,
	// A connected app's scopes change rarely, and each refresh costs a
	// Metadata API call per ten apps.
	SourceAppMetadata: time.Hour,
}

// Auth returns the org's credentials with the secrets read from their files.
func (o *Org) AuthConfig() salesforce.AuthConfig { return o.secrets }

// SourceEnabled reports whether a source is on: all are by default but the
// OptInSources, which are off until enabled.
func (o *Org) SourceEnabled(name string) bool {
	s, ok := o.Sources[name]
	if name == SourceStream && !o.Stream.Enabled {
		return false // opt-in: the stream block turns it on
	}
	if !ok || s.Enabled == nil {
		return !OptInSources[name]
	}
	return *s.Enabled
}

// SourceInterval is a source's refresh interval.
func (o *Org) SourceInterval(name string) time.Duration {
	if s, ok := o.Sources[name]; ok && s.Interval > 0 {
		return time.Duration(s.Interval)
	}
	base := time.Duration(o.RefreshInterval)
	if d, ok := DefaultSourceIntervals[name]; ok && d > base {
		return d
	}
	return base
}

// Error is a configuration error that names the file, and the line and key when known.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Load reads, decodes strictly and validates a config file, and reads the
// secret files it names. It makes no network call.
//
// The file must be a regular file (a symbolic link to one is fine) of at
// most MaxConfigFileBytes: a FIFO or a device such as /dev/zero is refused
// without being read, so neither start, --config.check nor a reload can
// hang or read without end.
func Load(path string) (*Config, error) {
	data, _, err := readRegularFile(path, MaxConfigFileBytes, "the config", "a config file")
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(data, path)
}

// MaxConfigFileBytes is the largest config file accepted: room for an
// inventory of a hundred thousand apps.
const MaxConfigFileBytes = 16 << 20

var typeErrRE = regexp.MustCompile(`^line (\d+): (.*)$`)
var unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type config\.(\w+)$`)

// Parse decodes and validates config data; path names the file in errors and
// is where relative *_file paths start from.
func Parse(data []byte, path string) (*Config, error) {
	cfg := &Config{File: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: path, Msg: "the file is empty: it needs at least one org under orgs"}
		}
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			m := typeErrRE.FindStringSubmatch(te.Errors[0])
			if m == nil {
				return nil, &Error{File: path, Msg: te.Errors[0]}
			}
			line, _ := strconv.Atoi(m[1])
			msg := m[2]
			key := ""
			if f := unknownFieldRE.FindStringSubmatch(msg); f != nil {
				key, msg = f[1], fmt.Sprintf("unknown key (in %s)", sectionName(f[2]))
			}
			return nil, &Error{File: path, Line: line, Key: key, Msg: msg}
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := regexp.MustCompile(`^line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, &Error{File: path, Line: line, Msg: msg}
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	v := &validator{cfg: cfg, root: &root, dir: filepath.Dir(path)}
	if err := v.finite(reflect.ValueOf(cfg).Elem(), nil); err != nil {
		return nil, err
	}
	if err := v.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// finite rejects a NaN or an infinity in any number of the config, wherever
// it is: YAML spells them .nan and .inf, and a comparison such as "between 0
// and 100" lets NaN through. path is the key path of v.
func (v *validator) finite(rv reflect.Value, path []any) error {
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return v.errf(keyPath(path), path, "%v is not a number: write a finite value such as 1 or 0.5", f)
		}
	case reflect.Pointer:
		if !rv.IsNil() {
			return v.finite(rv.Elem(), path)
		}
	case reflect.Struct:
		for i := range rv.NumField() {
			f := rv.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" || name == "" {
				continue
			}
			if err := v.finite(rv.Field(i), append(slices.Clip(path), name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			if err := v.finite(rv.Index(i), append(slices.Clip(path), i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := rv.MapRange()
		for iter.Next() {
			if err := v.finite(iter.Value(), append(slices.Clip(path), fmt.Sprint(iter.Key().Interface()))); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyPath writes a key path as errors name it: orgs[0].api_budget_percent.
func keyPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, k)
		}
	}
	return b.String()
}

func sectionName(typ string) string {
	switch typ {
	case "Config":
		return "the top level"
	case "Org":
		return "an org"
	case "Auth":
		return "auth"
	case "InventoryEntry":
		return "an inventory entry"
	case "SourceConfig":
		return "a source"
	case "Detection":
		return "detection"
	case "Stream":
		return "stream"
	case "IOCListConfig":
		return "an ioc list"
	}
	return typ
}

type validator struct {
	cfg  *Config
	root *yaml.Node
	dir  string
}

// line finds the line of a key path such as "orgs", 0, "auth", "flow".
func (v *validator) line(path ...any) int {
	n := v.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return line
			}
			n = n.Content[k]
			line = n.Line
		}
	}
	return line
}

func (v *validator) errf(key string, path []any, format string, args ...any) error {
	return &Error{File: v.cfg.File, Line: v.line(path...), Key: key, Msg: fmt.Sprintf(format, args...)}
}

var orgNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (v *validator) validate() error {
	c := v.cfg
	if c.StaleAfter == 0 {
		c.StaleAfter = Duration(DefaultStaleAfter)
	}
	if c.StaleAfter < 0 {
		return v.errf("stale_after", []any{"stale_after"}, "must be positive")
	}
	if c.MaxAppsPerOrg == 0 {
		c.MaxAppsPerOrg = DefaultMaxAppsPerOrg
	}
	if c.MaxAppsPerOrg < 0 {
		return v.errf("max_apps_per_org", []any{"max_apps_per_org"}, "must be a positive number of apps (leave it out for %d)", DefaultMaxAppsPerOrg)
	}
	if len(c.Orgs) == 0 {
		return v.errf("orgs", []any{"orgs"}, "at least one org is required")
	}
	names := map[string]bool{}
	for i := range c.Orgs {
		o := &c.Orgs[i]
		at := func(keys ...any) []any { return append([]any{"orgs", i}, keys...) }
		key := func(k string) string { return fmt.Sprintf("orgs[%d].%s", i, k) }
		if o.Name == "" {
			return v.errf(key("name"), at(), "is required")
		}
		if !orgNameRE.MatchString(o.Name) {
			return v.errf(key("name"), at("name"), "%q may hold only letters, digits, '_', '.' and '-'", o.Name)
		}
		if names[o.Name] {
			return v.errf(key("name"), at("name"), "org %q is listed twice", o.Name)
		}
		names[o.Name] = true
		if o.RefreshInterval == 0 {
			o.RefreshInterval = Duration(DefaultRefreshInterval)
		}
		if time.Duration(o.RefreshInterval) < time.Second {
			return v.errf(key("refresh_interval"), at("refresh_interval"), "%s is too short: at least 1s", o.RefreshInterval)
		}
		if time.Duration(o.RefreshInterval) < time.Minute {
			v.cfg.Warnings = append(v.cfg.Warnings, fmt.Sprintf("%s: refresh_interval %s is under a minute: every refresh costs API calls (the API budget still caps them)", key("refresh_interval"), o.RefreshInterval))
		}
		if o.Timeout == 0 {
			o.Timeout = Duration(min(DefaultTimeout, time.Duration(o.RefreshInterval)))
		}
		if o.APIBudgetPercent == 0 {
			o.APIBudgetPercent = DefaultAPIBudgetPercent
		}
		if !(o.APIBudgetPercent >= 0 && o.APIBudgetPercent <= 100) { // also false for NaN
			return v.errf(key("api_budget_percent"), at("api_budget_percent"), "%v is not a percentage between 0 and 100", o.APIBudgetPercent)
		}
		if o.FullSyncInterval == 0 {
			o.FullSyncInterval = Duration(DefaultFullSyncInterval)
		}
		if o.MaxConcurrency == 0 {
			o.MaxConcurrency = DefaultMaxConcurrency
		}
		if o.MaxConcurrency < 1 || o.MaxConcurrency > 25 {
			return v.errf(key("max_concurrency"), at("max_concurrency"), "%d is outside 1..25 (Salesforce allows 25 long-running requests at once)", o.MaxConcurrency)
		}
		if o.APIVersion != "" && !regexp.MustCompile(`^v?\d+\.\d$`).MatchString(o.APIVersion) {
			return v.errf(key("api_version"), at("api_version"), "%q is not a version such as \"66.0\"", o.APIVersion)
		}
		for name, sc := range o.Sources {
			if !slices.Contains(Sources, name) {
				return v.errf(key("sources."+name), at("sources", name), "unknown source: want one of %s", strings.Join(Sources, ", "))
			}
			if sc.Interval != 0 && time.Duration(sc.Interval) < time.Second {
				return v.errf(key("sources."+name+".interval"), at("sources", name), "%s is too short: at least 1s", sc.Interval)
			}
		}
		if err := v.auth(i, o); err != nil {
			return err
		}
		if err := v.stream(i, o); err != nil {
			return err
		}
		if err := v.apiEvents(i, o); err != nil {
			return err
		}
	}
	if err := v.detection(); err != nil {
		return err
	}
	for i, e := range c.Inventory {
		at := []any{"inventory", i}
		if e.App == "" && e.AppID == "" {
			return v.errf(fmt.Sprintf("inventory[%d].app", i), at, "an inventory entry needs app (or app_id)")
		}
		for _, o := range e.Orgs {
			if !names[o] {
				return v.errf(fmt.Sprintf("inventory[%d].orgs", i), append(at, "orgs"), "org %q is not in orgs", o)
			}
		}
		if err := v.declared(i, &c.Inventory[i]); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) auth(i int, o *Org) error {
	a := o.Auth
	at := func(keys ...any) []any { return append([]any{"orgs", i, "auth"}, keys...) }
	key := func(k string) string { return fmt.Sprintf("orgs[%d].auth.%s", i, k) }
	sc := salesforce.AuthConfig{Flow: salesforce.Flow(a.Flow), LoginURL: o.LoginURL, ClientID: a.ClientID, Username: a.Username, Audience: a.Audience}
	if o.LoginURL == "" {
		return v.errf(fmt.Sprintf("orgs[%d].login_url", i), []any{"orgs", i}, "is required")
	}
	if !slices.Contains(salesforce.Flows, sc.Flow) {
		return v.errf(key("flow"), at("flow"), "unknown flow %q: want jwt_bearer, client_credentials, refresh_token or password", a.Flow)
	}
	if msg := checkLoginURL(o.LoginURL, a.Flow); msg != "" {
		return v.errf(fmt.Sprintf("orgs[%d].login_url", i), []any{"orgs", i, "login_url"}, "%s", msg)
	}
	read := func(k, p string) ([]byte, error) {
		if p == "" {
			return nil, nil
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(v.dir, p)
		}
		b, st, err := readSecretFile(p)
		if err != nil {
			return nil, v.errf(key(k), at(k), "cannot read secret file %s: %v (a relative path is resolved against the config file's folder)", p, err)
		}
		if st.Mode().Perm()&0o004 != 0 {
			v.cfg.Warnings = append(v.cfg.Warnings, fmt.Sprintf("%s: secret file %s is readable by every user (mode %v); chmod 600 it", key(k), p, st.Mode().Perm()))
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, v.errf(key(k), at(k), "secret file %s is empty", p)
		}
		return b, nil
	}
	var err error
	var b []byte
	if b, err = read("client_secret_file", a.ClientSecretFile); err != nil {
		return err
	}
	sc.ClientSecret = string(b)
	if b, err = read("refresh_token_file", a.RefreshTokenFile); err != nil {
		return err
	}
	sc.RefreshToken = string(b)
	if b, err = read("password_file", a.PasswordFile); err != nil {
		return err
	}
	sc.Password = string(b)
	if b, err = read("private_key_file", a.PrivateKeyFile); err != nil {
		return err
	}
	sc.PrivateKey = b
	if err := sc.Validate(); err != nil {
		return v.errf(fmt.Sprintf("orgs[%d].auth", i), at(), "%v", err)
	}
	if sc.Flow == salesforce.FlowJWTBearer {
		if _, err := salesforce.NewClient(sc); err != nil {
			return v.errf(key("private_key_file"), at("private_key_file"), "%v", errors.Unwrap(err))
		}
	}
	o.secrets = sc
	return nil
}

// InventoryFor returns the entry approving app (by id when the entry has one,
// else by name) in org, or nil.
func (c *Config) InventoryFor(org, appName, appID string) *InventoryEntry {
	for i := range c.Inventory {
		e := &c.Inventory[i]
		if len(e.Orgs) > 0 && !slices.Contains(e.Orgs, org) {
			continue
		}
		if e.AppID != "" {
			if salesforce.ID(e.AppID).Same(salesforce.ID(appID)) {
				return e
			}
			continue
		}
		if strings.EqualFold(strings.TrimSpace(e.App), strings.TrimSpace(appName)) {
			return e
		}
	}
	return nil
}

// Duration is a duration written like Prometheus's ("90d", "5m", "1h30m").
type Duration model.Duration

// UnmarshalYAML implements yaml.Unmarshaler, with the line in its errors.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %q is not a duration such as 90d, 5m or 1h30m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// String implements fmt.Stringer.
func (d Duration) String() string { return model.Duration(d).String() }
