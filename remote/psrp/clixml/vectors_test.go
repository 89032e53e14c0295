package clixml

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"testing"

	"github.com/pssession/pssession/internal/vectors"
)

// vectorMessage is one PSRP message found in a recorded WinRM exchange.
type vectorMessage struct {
	File  string // base name of the YAML file
	Where string // "request N" or "response N"
	Type  uint32 // MS-PSRP 2.2.1 MessageType
	Data  []byte // CLIXML body (BOM kept)
}

func (m vectorMessage) String() string {
	return fmt.Sprintf("%s %s type 0x%08X", m.File, m.Where, m.Type)
}

// psrpPayload matches the WSMan elements that carry base64 PSRP fragments.
var psrpPayload = regexp.MustCompile(`<(creationXml|connectXml|connectResponseXml|rsp:Arguments|rsp:Stream)\b[^>]*>([A-Za-z0-9+/=\s]+)</`)

// loadVectorMessages extracts every PSRP message of every vector file:
// base64 → fragments (MS-PSRP 2.2.4, 21-byte big-endian header) →
// reassembled per ObjectId → message (2.2.1, 40-byte header) → data.
func loadVectorMessages(t testing.TB) []vectorMessage {
	t.Helper()
	dir, err := vectors.Dir()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := cachedVectorMessages(dir)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// vectorCache keeps the parsed vectors for the duration of the test binary;
// parsing the YAML takes a noticeable fraction of a second.
var vectorCache struct {
	sync.Mutex
	byDir map[string][]vectorMessage
}

func cachedVectorMessages(dir string) ([]vectorMessage, error) {
	vectorCache.Lock()
	defer vectorCache.Unlock()
	if msgs, ok := vectorCache.byDir[dir]; ok {
		return msgs, nil
	}
	msgs, err := readVectorMessages(dir)
	if err != nil {
		return nil, err
	}
	if vectorCache.byDir == nil {
		vectorCache.byDir = map[string][]vectorMessage{}
	}
	vectorCache.byDir[dir] = msgs
	return msgs, nil
}

func readVectorMessages(dir string) ([]vectorMessage, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []vectorMessage
	for _, f := range files {
		doc, err := vectors.Load(f)
		if err != nil {
			return nil, err
		}
		for i, m := range doc.Messages {
			for _, part := range []struct{ where, env string }{{"request", m.Request}, {"response", m.Response}} {
				out = appendPayloadMessages(out, filepath.Base(f), fmt.Sprintf("%s %d", part.where, i), part.env)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PSRP messages found under %s", dir)
	}
	return out, nil
}

// appendPayloadMessages appends the complete PSRP messages carried by one
// SOAP envelope.
func appendPayloadMessages(out []vectorMessage, file, where, env string) []vectorMessage {
	pending := map[uint64][]byte{}
	for _, sm := range psrpPayload.FindAllStringSubmatch(env, -1) {
		b, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields([]byte(sm[2])), nil)))
		if err != nil {
			continue // not base64 (e.g. WinRS text)
		}
		for len(b) >= 21 {
			oid := binary.BigEndian.Uint64(b[0:8])
			flags := b[16]
			n := int(binary.BigEndian.Uint32(b[17:21]))
			if 21+n > len(b) {
				break // not PSRP (WinRS output that happens to be base64)
			}
			pending[oid] = append(pending[oid], b[21:21+n]...)
			b = b[21+n:]
			if flags&2 == 0 {
				continue
			}
			msg := pending[oid]
			delete(pending, oid)
			if len(msg) < 40 || binary.LittleEndian.Uint32(msg[0:4])-1 > 1 {
				continue // not a message (destination must be 1 or 2)
			}
			out = append(out, vectorMessage{
				File:  file,
				Where: where,
				Type:  binary.LittleEndian.Uint32(msg[4:8]),
				Data:  msg[40:],
			})
		}
	}
	return out
}
