package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pssession/pssession/internal/store"
)

// getCompWordsShim stands in for bash-completion's _get_comp_words_by_ref,
// which cobra's script calls when the bash-completion package is absent:
// the words as bash split them. compopt works only while bash runs a
// completion from a key press, so it is a no-op here.
const getCompWordsShim = `
compopt() { :; }
if ! declare -F _get_comp_words_by_ref >/dev/null; then
_get_comp_words_by_ref() {
    while [[ $1 == -* ]]; do shift 2; done
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
}
fi
`

// TestBashCompletion sources the generated bash completion script in real
// bash, with the pssession binary on PATH, and completes command lines
// through the script's entry point, as bash does on Tab.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	bin, err := exec.LookPath("pssession") // the test binary, put on PATH by TestMain
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	binDir := filepath.Join(tmp, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(binDir, "pssession")); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(tmp, "state")
	st := &store.Store{Dir: filepath.Join(state, "pssession")}
	for _, s := range []store.Session{
		{Name: "web", ComputerName: "web1.corp", URL: "http://web1.corp:5985/wsman", State: stateDisconnected},
		{Name: "db", ComputerName: "db1.corp", URL: "http://db1.corp:5985/wsman", State: stateDisconnected},
	} {
		if _, err := st.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(tmp, "config")
	if err := os.WriteFile(cfg, []byte("Host jump1 jump2 *.lab\n  ssl yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + binDir + string(os.PathListSeparator) + "/usr/bin:/bin",
		"HOME=" + tmp,
		"XDG_STATE_HOME=" + state,
		"PSSESSION_CONFIG=" + cfg,
	}
	gen := exec.Command(filepath.Join(binDir, "pssession"), "completion", "bash")
	gen.Env = env
	script, err := gen.Output()
	if err != nil {
		t.Fatalf("pssession completion bash: %v", err)
	}
	scriptPath := filepath.Join(tmp, "pssession.bash")
	if err := os.WriteFile(scriptPath, script, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		line string // completed at its end
		want []string
	}{
		{"enter offers saved sessions and hosts", "pssession enter ", []string{"db", "jump1", "jump2", "web"}},
		{"receive completes a prefix", "pssession receive w", []string{"web"}},
		{"history offers saved sessions", "pssession history ", []string{"db", "web"}},
		{"remove skips names already given", "pssession remove web ", []string{"db"}},
		{"invoke --session", "pssession invoke --session ", []string{"db", "web"}},
		{"invoke offers hosts", "pssession invoke j", []string{"jump1", "jump2"}},
		{"new offers hosts", "pssession new ", []string{"jump1", "jump2"}},
		{"list --computer offers hosts", "pssession list --computer ", []string{"jump1", "jump2"}},
		{"config show offers hosts", "pssession config show ", []string{"jump1", "jump2"}},
		{"subcommands still complete", "pssession rec", []string{"receive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words := strings.Fields(tt.line)
			if strings.HasSuffix(tt.line, " ") {
				words = append(words, "")
			}
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = "'" + w + "'"
			}
			prog := getCompWordsShim + `
source "$1"
COMP_LINE="$2"
COMP_POINT=${#COMP_LINE}
COMP_WORDS=(` + strings.Join(quoted, " ") + `)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
__start_pssession
for r in "${COMPREPLY[@]}"; do printf '%s\n' "$r"; done
`
			c := exec.Command(bash, "--norc", "--noprofile", "-c", prog, "bash", scriptPath, tt.line)
			c.Env = env
			var stderr strings.Builder
			c.Stderr = &stderr
			out, err := c.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("bash: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				// With several candidates the script appends "(description)".
				if f := strings.Fields(l); len(f) > 0 {
					got = append(got, f[0])
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("completing %q (-want +got):\n%s\nraw output:\n%s", tt.line, diff, out)
			}
		})
	}
}
