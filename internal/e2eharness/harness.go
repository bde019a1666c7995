// Package e2eharness builds the exporter binary and runs it as a process,
// for the end-to-end tests and the bench: one build per test binary, a
// started exporter known ready by its "Listening on" log line (not by a
// sleep), its /metrics fetched and parsed, and a stop that lets it save its
// state.
package e2eharness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// BinaryName is the name of the exporter's binary.
const BinaryName = "salesforce_oauth_exporter"

// WaitLimit is how long a caller waits for the exporter before it calls it
// stuck: generous, since under the race detector on a loaded two-core CI
// machine a refresh can take many times as long as it does alone. It bounds
// a hang; it measures nothing.
const WaitLimit = 3 * time.Minute

// RepoRoot returns the module's root folder: the nearest folder at or above
// the working directory that holds the exporter's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/salesforce-oauth-exporter/salesforce_oauth_exporter\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of the exporter at or above the working directory")
		}
		dir = parent
	}
}

// Build builds the exporter from the repository into dir and returns the
// binary's path. race builds it with the race detector.
func Build(dir string, race bool) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, BinaryName)
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the exporter: %w\n%s", err, out)
	}
	return bin, nil
}

// Once builds the exporter at most once per process: the first call builds
// it into dir, later calls return the same binary (or the same error).
type Once struct {
	once sync.Once
	path string
	err  error
}

// Build builds the exporter into dir on the first call.
func (o *Once) Build(dir string, race bool) (string, error) {
	o.once.Do(func() { o.path, o.err = Build(dir, race) })
	return o.path, o.err
}

// Exporter is a running exporter process.
type Exporter struct {
	Cmd *exec.Cmd
	// Addr is the base URL it listens on, http://host:port.
	Addr string
	// Done receives the process's exit once it has ended. A caller that
	// reads it and keeps the exporter for later must send the value back.
	Done chan error

	mu   sync.Mutex
	logs bytes.Buffer
}

var listenRE = regexp.MustCompile(`msg="Listening on" address=(\S+)`)

// Start starts bin with args and returns once it listens (its "Listening
// on" log line names the address). Without a --web.listen-address in args
// it listens on a free loopback port. On failure the process is killed.
func Start(bin string, args ...string) (*Exporter, error) {
	return StartEnv(bin, nil, args...)
}

// StartEnv is Start with env ("KEY=value") added to the process's
// environment, such as SSL_CERT_FILE for a loopback TLS fake.
func StartEnv(bin string, env []string, args ...string) (*Exporter, error) {
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--web.listen-address") }) {
		args = append([]string{"--web.listen-address=127.0.0.1:0"}, args...)
	}
	e := &Exporter{Done: make(chan error, 1)}
	e.Cmd = exec.Command(bin, args...)
	if len(env) > 0 {
		e.Cmd.Env = append(os.Environ(), env...)
	}
	e.Cmd.Stdout = (*logWriter)(e)
	stderr, err := e.Cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := e.Cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			e.mu.Lock()
			e.logs.WriteString(line + "\n")
			e.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // a line past the scanner's bound
		e.Done <- e.Cmd.Wait()
	}()
	t := time.NewTimer(WaitLimit)
	defer t.Stop()
	select {
	case a := <-addr:
		e.Addr = "http://" + a
		return e, nil
	case err := <-e.Done:
		e.Done <- err
		return nil, fmt.Errorf("the exporter exited before it listened (%s):\n%s", exit(err), e.Log())
	case <-t.C:
		e.Kill()
		return nil, fmt.Errorf("the exporter did not listen within %s:\n%s", WaitLimit, e.Log())
	}
}

// exit describes a process's end: its Wait error, or a clean exit.
func exit(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logWriter appends the process's stdout to its log.
type logWriter Exporter

func (w *logWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.Write(b)
}

// Log is everything the process wrote so far.
func (e *Exporter) Log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

// Kill kills the process, if it still runs, and waits for it.
func (e *Exporter) Kill() {
	_ = e.Cmd.Process.Kill() // it may have exited already
	err := <-e.Done
	e.Done <- err
}

// Stop asks the process to end (SIGTERM, so it saves its state), kills it
// if it has not within 10 seconds, and returns its exit.
func (e *Exporter) Stop() error {
	_ = e.Cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	var err error
	select {
	case err = <-e.Done:
	case <-t.C:
		_ = e.Cmd.Process.Kill()
		err = <-e.Done
	}
	e.Done <- err
	return err
}

// Get reads path (such as /metrics) from the exporter: its status and body.
func (e *Exporter) Get(path string) (int, []byte, error) {
	resp, err := http.Get(e.Addr + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Scrape reads and parses /metrics.
func (e *Exporter) Scrape() (map[string]*MetricFamily, error) {
	_, body, err := e.Get("/metrics")
	if err != nil {
		return nil, err
	}
	return ParseMetrics(body)
}

// ErrGone is returned by Poll when the process has ended.
var ErrGone = errors.New("the exporter exited")

// Poll reads /metrics every interval until cond holds on its body, the
// process ends (ErrGone) or limit passes. It returns the body cond held on.
func (e *Exporter) Poll(limit, interval time.Duration, cond func(body []byte) bool) ([]byte, error) {
	deadline := time.Now().Add(limit)
	for {
		select {
		case err := <-e.Done:
			e.Done <- err
			return nil, fmt.Errorf("%w (%s):\n%s", ErrGone, exit(err), e.Log())
		default:
		}
		if code, body, err := e.Get("/metrics"); err == nil && code == http.StatusOK && cond(body) {
			return body, nil
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("/metrics did not reach the wanted state within %s", limit)
		}
		time.Sleep(interval)
	}
}

// MetricFamily is one metric family of a scrape.
type MetricFamily struct {
	// Raw is the whole body the family was parsed from.
	Raw []byte
	// Series are the family's values by their sorted label pairs,
	// "name=value" joined by commas.
	Series map[string]float64
}

// ParseMetrics parses a text exposition.
func ParseMetrics(body []byte) (map[string]*MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	out := map[string]*MetricFamily{}
	for name, f := range fams {
		mf := &MetricFamily{Raw: body, Series: map[string]float64{}}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			mf.Series[strings.Join(ls, ",")] = v
		}
		out[name] = mf
	}
	return out, nil
}

// Value is the value of the series of name with exactly labels
// ("name=value" each), and whether it is there.
func Value(m map[string]*MetricFamily, name string, labels ...string) (float64, bool) {
	f := m[name]
	if f == nil {
		return 0, false
	}
	labels = slices.Clone(labels)
	sort.Strings(labels)
	v, ok := f.Series[strings.Join(labels, ",")]
	return v, ok
}
