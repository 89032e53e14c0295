// Command benchharness measures the pssession binary end to end on
// loopback (issue 4): the whole `pssession invoke` process for a trivial
// script, bulk output through invoke, and fan-out to many endpoints.
//
// It builds ./cmd/pssession (or uses -bin), starts `pssession serve`
// and in-process endpoints on 127.0.0.1:0, runs each scenario -runs
// times and prints medians, throughput and peak RSS. It exits non-zero
// only when something fails, never because a target is missed.
//
//	go run ./internal/benchharness -runs 20
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/pssession/pssession/remote/endpoint"
	"github.com/pssession/pssession/remote/wsman/transport"
)

const (
	user     = `LAB\alice`
	password = "Passw0rd!"
)

func main() {
	runs := flag.Int("runs", 20, "runs per scenario")
	bin := flag.String("bin", "", "pssession binary (default: go build ./cmd/pssession into a temporary directory)")
	mb := flag.Int("mb", 100, "megabytes of remote output for the bulk scenario")
	fanout := flag.Int("fanout", 32, "endpoints for the fan-out scenario")
	only := flag.String("only", "", "comma-separated scenarios to run (invoke,bulk,fanout); empty runs all")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the harness process (the in-process fan-out endpoints) to this file")
	flag.Parse()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchharness:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, "benchharness:", err)
			os.Exit(1)
		}
		defer pf.Close()
		defer pprof.StopCPUProfile()
	}
	if err := run(*runs, *bin, *mb, *fanout, *only); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "benchharness:", err)
		os.Exit(1)
	}
}

type harness struct {
	bin, dir, users string
	runs            int
}

func run(runs int, bin string, mb, fanout int, only string) error {
	dir, err := os.MkdirTemp("", "benchharness")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "pssession")
		build := exec.Command("go", "build", "-o", bin, "./cmd/pssession")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	h := &harness{bin: bin, dir: dir, users: filepath.Join(dir, "users"), runs: runs}
	if err := os.WriteFile(h.users, []byte(user+":"+password+"\n"), 0o600); err != nil {
		return err
	}
	want := func(name string) bool { return only == "" || slices.Contains(strings.Split(only, ","), name) }
	printMachine()
	if want("invoke") {
		if err := h.invokeScenario(); err != nil {
			return fmt.Errorf("invoke: %w", err)
		}
	}
	if want("bulk") {
		if err := h.bulkScenario(mb); err != nil {
			return fmt.Errorf("bulk: %w", err)
		}
	}
	if want("fanout") {
		if err := h.fanoutScenario(fanout); err != nil {
			return fmt.Errorf("fanout: %w", err)
		}
	}
	return nil
}

func printMachine() {
	load, _ := os.ReadFile("/proc/loadavg")
	host, _ := os.Hostname()
	fmt.Printf("date %s, host %s, %d CPUs, load average %s\n", time.Now().UTC().Format(time.RFC3339), host, numCPU(), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
}

// serve starts `pssession serve` with engine and returns its host:port
// and a function that stops it.
func (h *harness) serve(engine string) (string, func(), error) {
	cmd := exec.Command(h.bin, "serve", "--listen", "127.0.0.1:0", "--users", h.users, "--engine", engine)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("serve printed no address: %w", err)
	}
	// "Listening on http://127.0.0.1:PORT/wsman (engine X)"
	f := strings.Fields(line)
	if len(f) < 3 || !strings.HasPrefix(f[2], "http://") {
		stop()
		return "", nil, fmt.Errorf("serve printed %q", line)
	}
	go io.Copy(io.Discard, out)
	return strings.TrimSuffix(strings.TrimPrefix(f[2], "http://"), "/wsman"), stop, nil
}

// sample is one measured child process.
type sample struct {
	wall   time.Duration
	cpu    time.Duration // the child's user and system CPU time
	maxRSS int64         // KiB; 0 where the platform does not report it
	bytes  int64         // stdout bytes
}

// countWriter counts what the child writes to stdout.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// invoke runs `pssession invoke target -c script` once.
func (h *harness) invoke(target, script string, extra ...string) (sample, error) {
	args := append([]string{"invoke", target, "-u", user, "-c", script}, extra...)
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(os.Environ(), "PSSESSION_PASSWORD="+password, "XDG_STATE_HOME="+filepath.Join(h.dir, "state"), "XDG_CONFIG_HOME="+filepath.Join(h.dir, "config"), "NO_COLOR=1")
	var out countWriter
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &stderr
	start := time.Now()
	err := cmd.Run()
	s := sample{wall: time.Since(start), bytes: out.n}
	s.maxRSS = maxRSS(cmd.ProcessState)
	if cmd.ProcessState != nil {
		s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return s, fmt.Errorf("pssession %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return s, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// invokeScenario: the whole invoke process for `echo hi` (target ≤ 60 ms).
func (h *harness) invokeScenario() error {
	addr, stop, err := h.serve("scripted")
	if err != nil {
		return err
	}
	defer stop()
	var walls, cpus []time.Duration
	var rss int64
	for i := 0; i < h.runs; i++ {
		s, err := h.invoke(addr, "echo hi")
		if err != nil {
			return err
		}
		if s.bytes != 3 {
			return fmt.Errorf("echo hi printed %d bytes", s.bytes)
		}
		walls = append(walls, s.wall)
		cpus = append(cpus, s.cpu)
		rss = max(rss, s.maxRSS)
	}
	fmt.Printf("invoke 'echo hi' (serve --engine scripted, NTLM sealed HTTP): median %s, min %s, max %s over %d runs; invoke CPU median %s; peak RSS %d MiB (target: median ≤ 60 ms)\n",
		ms(median(walls)), ms(slices.Min(walls)), ms(slices.Max(walls)), h.runs, ms(median(cpus)), rss/1024)
	return nil
}

// bulkScenario: mb MB of remote output through invoke (targets ≥ 50 MB/s,
// peak RSS ≤ 64 MB). The sh engine prints lines of 1000 characters; the
// scripted engine's Get-Output prints short "line N" records and is
// measured at a tenth of the size for comparison.
func (h *harness) bulkScenario(mb int) error {
	size := int64(mb) << 20
	lines := size / 1001 // 1000 characters and a newline
	cases := []struct {
		name, engine, script string
		want                 int64
		runs                 int
	}{
		{"sh engine, 1000-char lines", "sh", fmt.Sprintf(`yes "$(head -c 1000 /dev/zero | tr '\0' x)" | head -n %d`, lines), lines * 1001, max(1, h.runs/4)},
		{"scripted Get-Output (short lines)", "scripted", fmt.Sprintf("Get-Output -Lines %d", size/10/13), 0, 1},
	}
	for _, c := range cases {
		addr, stop, err := h.serve(c.engine)
		if err != nil {
			return err
		}
		var walls, cpus []time.Duration
		var rss, bytes int64
		for i := 0; i < c.runs; i++ {
			s, err := h.invoke(addr, c.script)
			if err != nil {
				stop()
				return err
			}
			if c.want > 0 && s.bytes != c.want {
				stop()
				return fmt.Errorf("%s: %d bytes of output, want %d", c.name, s.bytes, c.want)
			}
			walls = append(walls, s.wall)
			cpus = append(cpus, s.cpu)
			rss, bytes = max(rss, s.maxRSS), s.bytes
		}
		stop()
		m := median(walls)
		fmt.Printf("bulk output, %s: %.1f MB in median %s = %.1f MB/s (best %.1f MB/s) over %d runs; invoke CPU median %s; peak RSS %d MiB (targets: ≥ 50 MB/s, ≤ 64 MB)\n",
			c.name, float64(bytes)/(1<<20), ms(m), float64(bytes)/(1<<20)/m.Seconds(), float64(bytes)/(1<<20)/slices.Min(walls).Seconds(), c.runs, ms(median(cpus)), rss/1024)
	}
	return nil
}

// fanoutScenario: one invoke to n in-process endpoints on distinct ports
// against the same invoke to one of them (target: ≤ 2×).
func (h *harness) fanoutScenario(n int) error {
	var addrs []string
	for i := 0; i < n; i++ {
		addr, stop, err := inProcessEndpoint()
		if err != nil {
			return err
		}
		defer stop()
		addrs = append(addrs, addr)
	}
	type result struct {
		wall, best, cpu, serverCPU time.Duration
		rss                        int64
	}
	measure := func(target string) (result, error) {
		var walls, cpus []time.Duration
		var rss int64
		start := selfCPU()
		for i := 0; i < h.runs; i++ {
			s, err := h.invoke(target, "Write-Output hi")
			if err != nil {
				return result{}, err
			}
			walls = append(walls, s.wall)
			cpus = append(cpus, s.cpu)
			rss = max(rss, s.maxRSS)
		}
		return result{median(walls), slices.Min(walls), median(cpus), (selfCPU() - start) / time.Duration(h.runs), rss}, nil
	}
	one, err := measure(addrs[0])
	if err != nil {
		return err
	}
	all, err := measure(strings.Join(addrs, ","))
	if err != nil {
		return err
	}
	fmt.Printf("fan-out: 1 target median %s (best %s), %d targets median %s (best %s) = %.2f× (best/best %.2f×; in-process endpoints; target ≤ 2×); peak RSS %d MiB\n",
		ms(one.wall), ms(one.best), n, ms(all.wall), ms(all.best), float64(all.wall)/float64(one.wall), float64(all.best)/float64(one.best), all.rss/1024)
	fmt.Printf("fan-out CPU per invoke: 1 target client %s + endpoint %s, %d targets client %s + endpoints %s\n",
		ms(one.cpu), ms(one.serverCPU), n, ms(all.cpu), ms(all.serverCPU))
	return nil
}

// inProcessEndpoint serves the scripted engine behind NTLM on a fresh
// loopback port.
func inProcessEndpoint() (string, func(), error) {
	ep := endpoint.New(endpoint.Config{Engine: endpoint.Scripted{}, Machine: "bench"})
	sa, err := transport.NewServerAuth(ep, transport.ServerConfig{Users: map[string]string{user: password}, Schemes: []string{"negotiate"}})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: sa, ConnContext: sa.ConnContext, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "benchharness: serve:", err)
		}
	}()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ep.Close()
	}, nil
}

func numCPU() int { return runtime.NumCPU() }
