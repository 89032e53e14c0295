// Package vectors is test support for the recorded Windows exchanges in
// shared/vectors/windows (see shared/vectors/README.md): it finds the
// folder, lists its files and reads their `messages:` lists of SOAP
// request/response envelopes. It sits below every protocol layer and
// imports only the standard library and gopkg.in/yaml.v3.
package vectors

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gopkg.in/yaml.v3"
)

// EnvDir names the environment variable that overrides the folder.
const EnvDir = "PSSESSION_VECTORS"

// File is one recorded exchange file.
type File struct {
	Messages []Message `yaml:"messages"`
}

// Message is one request/response pair with the optional keys the
// recorder added.
type Message struct {
	Request  string `yaml:"request"`  // SOAP envelope the client sent
	Response string `yaml:"response"` // SOAP envelope Windows answered
	// TransportError is set when the server answered with an HTTP error
	// status (for example {protocol: http, code: 500}).
	TransportError *TransportError `yaml:"transport_error"`
	HTTPError      bool            `yaml:"http_error"`
	AuthError      bool            `yaml:"auth_error"`
	Timeout        int             `yaml:"timeout"`   // seconds, 0 when absent
	Overrides      []Override      `yaml:"overrides"` // request edits the recorder applied
}

// TransportError is the transport_error key of a message.
type TransportError struct {
	Protocol string `yaml:"protocol"`
	Code     int    `yaml:"code"`
}

// Override is one entry of the overrides key: an element path of the
// request and the attributes or text set on it.
type Override struct {
	Path       string            `yaml:"path"`
	Text       string            `yaml:"text"`
	Attributes map[string]string `yaml:"attributes"`
}

// Dir returns the folder of recorded exchanges: $PSSESSION_VECTORS, else
// testdata/vectors/windows under the module root when it exists, else
// ../shared/vectors/windows beside the module root (CI clones the
// repository with shared/ next to it). The module root is the first
// directory holding go.mod above the working directory.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("vectors: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			local := filepath.Join(dir, "testdata", "vectors", "windows")
			if st, err := os.Stat(local); err == nil && st.IsDir() {
				return local, nil
			}
			return filepath.Join(dir, "..", "shared", "vectors", "windows"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("vectors: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Files lists every *.yml of Dir, sorted. It fails the test when the
// folder cannot be found or holds no vectors: missing vectors are an
// error, not a skip.
func Files(t testing.TB) []string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("vectors: no *.yml in %s (set %s)", dir, EnvDir)
	}
	sort.Strings(files)
	return files
}

// Load reads one vector file.
func Load(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vectors: %w", err)
	}
	var f File
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("vectors: %s: %w", filepath.Base(path), err)
	}
	return &f, nil
}
