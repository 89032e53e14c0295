// Package faultproxy is test support: a TCP proxy on 127.0.0.1 that can
// cut the network (reset every connection, refuse new ones) or blackhole it
// (hold all traffic, as a lossy link does until TCP retransmits), used to
// test robust connections (about_PSSession_Details).
package faultproxy

import (
	"net"
	"sync"
)

// Proxy forwards TCP connections to a backend address.
type Proxy struct {
	ln      net.Listener
	backend string

	mu     sync.Mutex
	down   bool
	paused bool
	resume *sync.Cond
	conns  map[net.Conn]bool
}

// New starts a proxy on 127.0.0.1:0 to backend (host:port).
func New(backend string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	p.resume = sync.NewCond(&p.mu)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Unblackhole()
	p.Cut()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		go func() { p.pipe(b, c); b.Close(); c.Close() }()
		go func() { p.pipe(c, b); c.Close(); b.Close() }()
	}
}

// pipe copies src to dst, holding data while the proxy is blackholed.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused {
				p.resume.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut resets every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// Restore accepts connections again after Cut.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// Blackhole holds all traffic until Unblackhole.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

// Unblackhole releases the held traffic.
func (p *Proxy) Unblackhole() {
	p.mu.Lock()
	p.paused = false
	p.resume.Broadcast()
	p.mu.Unlock()
}
