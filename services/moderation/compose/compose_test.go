package compose_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const root = "../../.."

type composeFile struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build *struct {
			Context string `yaml:"context"`
			Target  string `yaml:"target"`
		} `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
	} `yaml:"services"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

var binDir string

// TestMain builds the four binaries once for every test here.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-compose-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	cmd := exec.Command("go", "build", "-o", dir+"/",
		"./services/ingest/cmd/vigil-ingest", "./services/review/cmd/vigil-review",
		"./services/vigilctl/cmd/vigilctl", "./services/firehose/cmd/vigil-firehose")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic(fmt.Sprintf("go build: %v\n%s", err, out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// helpEnv returns the VIGIL_* variables a binary's --help lists.
func helpEnv(t *testing.T, target string, args ...string) map[string]bool {
	t.Helper()
	switch target {
	case "vigil-ingest", "vigil-review", "vigilctl", "vigil-firehose":
	default:
		t.Fatalf("%q is not a Vigil binary", target)
	}
	out, _ := exec.Command(filepath.Join(binDir, target), append(args, "--help")...).CombinedOutput()
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$(VIGIL_[A-Z0-9_]+)`).FindAllStringSubmatch(string(out), -1) {
		names[m[1]] = true
	}
	if len(names) == 0 {
		t.Fatalf("%s --help lists no VIGIL_ variables:\n%s", target, out)
	}
	return names
}

func TestComposeMatchesServiceConfiguration(t *testing.T) {
	c := loadCompose(t)
	built := 0
	for name, s := range c.Services {
		if s.Build == nil {
			if s.Image == "" {
				t.Errorf("service %s has neither image nor build", name)
			}
			continue
		}
		built++
		if _, err := os.Stat(filepath.Join(root, s.Build.Context, "Dockerfile")); err != nil {
			t.Errorf("service %s: no Dockerfile in %s", name, s.Build.Context)
		}
		df, _ := os.ReadFile(filepath.Join(root, "Dockerfile"))
		if !strings.Contains(string(df), "AS "+s.Build.Target+"\n") {
			t.Errorf("service %s: Dockerfile has no target %s", name, s.Build.Target)
		}
		env := helpEnv(t, s.Build.Target, s.Command...)
		for k := range s.Environment {
			if strings.HasPrefix(k, "VIGIL_") && !env[k] {
				t.Errorf("service %s sets %s, which %s does not read", name, k, s.Build.Target)
			}
		}
		if addr, ok := s.Environment["VIGIL_HTTP_ADDR"]; ok {
			port := addr[strings.LastIndex(addr, ":")+1:]
			found := false
			for _, p := range s.Ports {
				if strings.HasSuffix(p, ":"+port) {
					found = true
				}
			}
			if !found {
				t.Errorf("service %s listens on %s but publishes %v", name, port, s.Ports)
			}
		}
	}
	for _, want := range []string{"kafka", "postgres", "prometheus", "grafana", "ingest", "review", "firehose"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("docker-compose.yml has no %s service", want)
		}
	}
	if built < 4 {
		t.Errorf("only %d services are built from the repo", built)
	}
}

func TestPrometheusScrapesComposeServices(t *testing.T) {
	c := loadCompose(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy/prometheus/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	for _, sc := range p.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, _ := strings.Cut(target, ":")
				s, ok := c.Services[host]
				if !ok {
					t.Errorf("prometheus scrapes %s, which is not a compose service", target)
					continue
				}
				if !strings.HasSuffix(s.Environment["VIGIL_HTTP_ADDR"], ":"+port) {
					t.Errorf("prometheus scrapes %s but the service listens on %q", target, s.Environment["VIGIL_HTTP_ADDR"])
				}
			}
		}
	}
}

// definedMetrics returns a check that a vigil_ metric (or a histogram's
// series of one) is defined somewhere in the services' code.
func definedMetrics(t *testing.T) func(metric string) bool {
	t.Helper()
	var code strings.Builder
	_ = filepath.WalkDir(filepath.Join(root, "services"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			code.Write(b)
		}
		return nil
	})
	return func(m string) bool {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
		return strings.Contains(code.String(), `"`+base+`"`)
	}
}

var metricName = regexp.MustCompile(`vigil_[a-z0-9_]+`)

// TestDashboardsUseRealMetrics checks every vigil_ metric a dashboard
// queries is defined somewhere in the services' code.
func TestDashboardsUseRealMetrics(t *testing.T) {
	defined := definedMetrics(t)
	files, _ := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	if len(files) < 2 {
		t.Fatalf("dashboards %v, want ingest and review", files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, m := range metricName.FindAllString(string(b), -1) {
			if !defined(m) {
				t.Errorf("%s queries %s, which no service defines", filepath.Base(f), m)
			}
		}
	}
}

// TestPrometheusRules checks the Prometheus configuration and alerting
// rules with promtool (make promtool fetches it into .local/bin) and runs
// the alerts' unit tests, deploy/prometheus/alerts_test.yml; every vigil_
// metric an alert reads must be defined by a service.
func TestPrometheusRules(t *testing.T) {
	dir := filepath.Join(root, "deploy", "prometheus")
	b, err := os.ReadFile(filepath.Join(dir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	defined := definedMetrics(t)
	for _, m := range metricName.FindAllString(string(b), -1) {
		if !defined(m) {
			t.Errorf("alerts.yml reads %s, which no service defines", m)
		}
	}
	promtool := os.Getenv("VIGIL_PROMTOOL")
	if promtool == "" {
		promtool = filepath.Join(root, ".local", "bin", "promtool")
	}
	promtool, err = filepath.Abs(promtool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(promtool); err != nil {
		if os.Getenv("VIGIL_INTEGRATION") == "require" {
			t.Fatalf("promtool is required (VIGIL_INTEGRATION=require): %v (make promtool)", err)
		}
		t.Skipf("no promtool (make promtool): %v", err)
	}
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestReadmeDocumentsEveryVariable keeps the README's configuration table
// true: every VIGIL_ variable a service reads is documented, and every
// documented one is read by some service or by the local stack scripts.
// vigilctl's per-command flags are documented by its --help.
func TestReadmeDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, bin := range []string{"vigil-ingest", "vigil-review", "vigil-firehose"} {
		for k := range helpEnv(t, bin) {
			read[k] = true
		}
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "deploy/local/*.sh"))
	for _, s := range scripts {
		b, _ := os.ReadFile(s)
		for _, m := range regexp.MustCompile(`VIGIL_[A-Z0-9_]+`).FindAllString(string(b), -1) {
			read[m] = true
		}
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(VIGIL_[A-Z0-9_]+)`").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	for k := range read {
		if !documented[k] && !strings.HasPrefix(k, "VIGIL_PG_") && !strings.HasPrefix(k, "VIGIL_KAFKA_") && !strings.HasPrefix(k, "VIGIL_DEMO_") && k != "VIGIL_LOCAL_DIR" {
			t.Errorf("%s is read by a binary but not documented in README.md", k)
		}
	}
	for k := range documented {
		if !read[k] && k != "VIGIL_INTEGRATION" && k != "VIGIL_BENCH" {
			t.Errorf("README.md documents %s, which nothing reads", k)
		}
	}
}

// TestKubernetesManifestsMatchServiceConfiguration checks every container
// of deploy/k8s sets only variables its binary reads and that probes and
// ports agree with VIGIL_HTTP_ADDR.
func TestKubernetesManifestsMatchServiceConfiguration(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, "deploy/k8s/*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/k8s")
	}
	type container struct {
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Env   []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		Ports []struct {
			ContainerPort int `yaml:"containerPort"`
		} `yaml:"ports"`
	}
	helps := map[string]map[string]bool{}
	seen := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		for {
			var doc struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []container `yaml:"containers"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			}
			if err := dec.Decode(&doc); err != nil {
				break
			}
			for _, c := range doc.Spec.Template.Spec.Containers {
				seen++
				bin := strings.TrimSuffix(c.Image[strings.LastIndex(c.Image, "/")+1:], ":latest")
				key := bin + strings.Join(c.Args, " ")
				if helps[key] == nil {
					helps[key] = helpEnv(t, bin, c.Args...)
				}
				for _, e := range c.Env {
					if !helps[key][e.Name] {
						t.Errorf("%s: %s sets %s, which it does not read", filepath.Base(f), bin, e.Name)
					}
					if e.Name == "VIGIL_HTTP_ADDR" {
						ok := false
						for _, p := range c.Ports {
							ok = ok || strings.HasSuffix(e.Value, ":"+strconv.Itoa(p.ContainerPort))
						}
						if !ok {
							t.Errorf("%s: %s listens on %s but declares ports %v", filepath.Base(f), bin, e.Value, c.Ports)
						}
					}
				}
			}
		}
	}
	if seen < 3 {
		t.Fatalf("found %d containers in deploy/k8s, want ingest, review and migrate", seen)
	}
}

// TestPostgresSettingsMatchLocalStack: docker-compose's postgres runs with
// the server settings the local stack writes to vigil.conf
// (deploy/local/postgres.sh), so that both run the database as measured.
func TestPostgresSettingsMatchLocalStack(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "deploy/local/postgres.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)new=\$\(cat <<'CONF'\n(.*?)\nCONF\n`).FindSubmatch(b)
	if m == nil {
		t.Fatal("deploy/local/postgres.sh: no vigil.conf here-document")
	}
	local := map[string]string{}
	for _, line := range strings.Split(string(m[1]), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("vigil.conf line %q is not name = value", line)
		}
		local[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), "'")
	}
	compose := map[string]string{}
	cmd := loadCompose(t).Services["postgres"].Command
	for i := 0; i < len(cmd); i++ {
		if cmd[i] == "-c" && i+1 < len(cmd) {
			k, v, _ := strings.Cut(cmd[i+1], "=")
			compose[k] = v
			i++
		}
	}
	if len(local) == 0 {
		t.Fatal("vigil.conf sets nothing")
	}
	for k, v := range local {
		if compose[k] != v {
			t.Errorf("%s: vigil.conf %q, docker-compose.yml %q", k, v, compose[k])
		}
	}
	for k := range compose {
		if _, ok := local[k]; !ok {
			t.Errorf("docker-compose.yml sets %s, vigil.conf does not", k)
		}
	}
}
