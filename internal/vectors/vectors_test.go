package vectors

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilesLoadAll(t *testing.T) {
	files := Files(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Messages) == 0 {
				t.Fatal("no messages")
			}
			for i, m := range v.Messages {
				if m.Request == "" {
					t.Errorf("message %d has no request", i)
				}
			}
		})
	}
}

func TestLoadOptionalKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.yml")
	const doc = `messages:
- request: <a/>
  response: <b/>
- request: <c/>
  overrides:
  - path: s:Body/rsp:Receive
    attributes:
      CommandId: ABC
  transport_error:
    protocol: http
    code: 500
  http_error: true
  auth_error: true
  timeout: 1
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &File{Messages: []Message{
		{Request: "<a/>", Response: "<b/>"},
		{Request: "<c/>", TransportError: &TransportError{Protocol: "http", Code: 500}, HTTPError: true, AuthError: true, Timeout: 1,
			Overrides: []Override{{Path: "s:Body/rsp:Receive", Attributes: map[string]string{"CommandId": "ABC"}}}},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Load (-want +got):\n%s", d)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("messages: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"missing file", filepath.Join(dir, "none.yml")},
		{"bad yaml", bad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Load(tc.path); err == nil {
				t.Fatal("Load succeeded")
			}
		})
	}
}

func TestDirFromEnv(t *testing.T) {
	t.Setenv(EnvDir, "/some/where")
	got, err := Dir()
	if err != nil || got != "/some/where" {
		t.Fatalf("Dir() = %q, %v", got, err)
	}
}

func TestDirModuleRoot(t *testing.T) {
	t.Setenv(EnvDir, "")
	got, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got) != "windows" {
		t.Errorf("Dir() = %q, want a .../vectors/windows folder", got)
	}
}
