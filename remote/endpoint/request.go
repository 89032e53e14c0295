package endpoint

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pssession/pssession/remote/wsman"
)

// Names of the protocol (MS-WSMV 2.2.1 namespaces, 3.1.4 actions,
// 2.2.4.38 signals, 2.2.4.7 command states), from remote/wsman. Requests
// are parsed by these URIs, whatever prefixes the client chose.
const (
	nsSOAP       = wsman.NsSOAP
	nsAddressing = wsman.NsAddressing
	nsWSMan      = wsman.NsWSMan
	nsWSMV       = wsman.NsWSMV
	nsShell      = wsman.NsShell
	nsTransfer   = wsman.NsTransfer
	nsEnum       = wsman.NsEnumeration
	nsFault      = wsman.NsFault
	nsPowerShell = wsman.NsPowerShell
	nsConfig     = wsman.NsConfig

	actionCreate     = wsman.ActionCreate
	actionGet        = wsman.ActionGet
	actionDelete     = wsman.ActionDelete
	actionEnumerate  = wsman.ActionEnumerate
	actionPull       = wsman.ActionPull
	actionCommand    = wsman.ActionCommand
	actionSend       = wsman.ActionSend
	actionReceive    = wsman.ActionReceive
	actionSignal     = wsman.ActionSignal
	actionDisconnect = wsman.ActionDisconnect
	actionReconnect  = wsman.ActionReconnect
	actionConnect    = wsman.ActionConnect
	actionFault      = wsman.ActionFault
	addressAnonymous = nsAddressing + "/role/anonymous"

	resourceCmd          = wsman.ResourceCmd
	resourceShell        = wsman.ResourceShell
	resourceShellCommand = wsman.ResourceShellCommand
	resourceConfig       = wsman.ResourceConfig
	resourcePowerShell   = wsman.ResourcePowerShellPrefix

	// signalTerminate is matched case-insensitively: pywinrm sends
	// ".../signal/terminate", pypsrp ".../signal/Terminate".
	signalTerminate = wsman.SignalTerminate
	signalCtrlC     = wsman.SignalCtrlC
	signalCtrlBreak = wsman.SignalCtrlBreak
	signalPSCtrlC   = wsman.SignalPSCtrlC // "crtl" is normative (MS-PSRP 3.1.5.3.9)

	commandStateDone    = wsman.CommandStateDone
	commandStateRunning = wsman.CommandStateRunning
)

// request is one parsed WS-Man request envelope.
type request struct {
	Header header `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body   body   `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type header struct {
	Action           string     `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
	MessageID        string     `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	To               string     `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing To"`
	ResourceURI      string     `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
	MaxEnvelopeSize  string     `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
	OperationTimeout string     `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
	Locale           localeElem `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Locale"`
	DataLocale       localeElem `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd DataLocale"`
	Selectors        []selector `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet>Selector"`
	Options          []option   `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet>Option"`
}

type localeElem struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
}

type selector struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

type option struct {
	Name       string `xml:"Name,attr"`
	MustComply string `xml:"MustComply,attr"`
	Value      string `xml:",chardata"`
}

type body struct {
	Shell       *shellBody      `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
	CommandLine *commandBody    `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
	Receive     *receiveBody    `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
	Send        *sendBody       `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
	Signal      *signalBody     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	Disconnect  *disconnectBody `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Disconnect"`
	Connect     *connectBody    `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Connect"`
	Enumerate   *enumerateBody  `xml:"http://schemas.xmlsoap.org/ws/2004/09/enumeration Enumerate"`
	Pull        *pullBody       `xml:"http://schemas.xmlsoap.org/ws/2004/09/enumeration Pull"`
}

type shellBody struct {
	ShellID          string     `xml:"ShellId,attr"`
	NameAttr         string     `xml:"Name,attr"`
	Name             string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Name"`
	InputStreams     string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
	OutputStreams    string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
	IdleTimeOut      string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell IdleTimeOut"`
	WorkingDirectory string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell WorkingDirectory"`
	Variables        []variable `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Environment>Variable"`
	CreationXML      string     `xml:"http://schemas.microsoft.com/powershell creationXml"`
}

type variable struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

type commandBody struct {
	CommandID string   `xml:"CommandId,attr"`
	Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
	Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
}

type receiveBody struct {
	DesiredStream struct {
		CommandID string `xml:"CommandId,attr"`
		Streams   string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
}

type sendBody struct {
	Streams []sendStream `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
}

type sendStream struct {
	Name      string `xml:"Name,attr"`
	CommandID string `xml:"CommandId,attr"`
	End       string `xml:"End,attr"`
	Data      string `xml:",chardata"`
}

type signalBody struct {
	CommandID string `xml:"CommandId,attr"`
	Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
}

type disconnectBody struct {
	IdleTimeOut string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell IdleTimeOut"`
	BufferMode  string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell BufferMode"`
}

type connectBody struct {
	CommandID  string `xml:"CommandId,attr"`
	ConnectXML string `xml:"http://schemas.microsoft.com/powershell connectXml"`
}

type enumerateBody struct {
	Optimize    *struct{} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptimizeEnumeration"`
	MaxElements string    `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxElements"`
	Filter      *struct {
		Dialect   string     `xml:"Dialect,attr"`
		Selectors []selector `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet>Selector"`
	} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Filter"`
}

type pullBody struct {
	Context     string `xml:"http://schemas.xmlsoap.org/ws/2004/09/enumeration EnumerationContext"`
	MaxElements string `xml:"http://schemas.xmlsoap.org/ws/2004/09/enumeration MaxElements"`
}

// parseRequest decodes a request envelope and checks the headers every
// operation needs. Errors are faults ready to send.
func parseRequest(data []byte) (*request, *Fault) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var env struct {
		XMLName xml.Name
		request
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&env); err != nil {
		return nil, faultSchema(fmt.Sprintf("the request is not well-formed XML: %v", err))
	}
	if env.XMLName.Space != nsSOAP || env.XMLName.Local != "Envelope" {
		return nil, faultSchema(fmt.Sprintf("the root element is {%s}%s, not a SOAP 1.2 Envelope", env.XMLName.Space, env.XMLName.Local))
	}
	r := &env.request
	h := &r.Header
	h.Action = strings.TrimSpace(h.Action)
	h.MessageID = strings.TrimSpace(h.MessageID)
	h.ResourceURI = strings.TrimSpace(h.ResourceURI)
	if h.Action == "" {
		return r, faultHeader("the request has no wsa:Action header")
	}
	if h.MessageID == "" {
		return r, faultHeader("the request has no wsa:MessageID header")
	}
	if h.ResourceURI == "" && h.Action != actionPull {
		return r, faultHeader("the request has no wsman:ResourceURI header")
	}
	if h.MaxEnvelopeSize != "" {
		n, err := strconv.Atoi(strings.TrimSpace(h.MaxEnvelopeSize))
		if err != nil || n < minEnvelopeSize {
			return r, faultHeader(fmt.Sprintf("the wsman:MaxEnvelopeSize header %q is not a number of at least %d", h.MaxEnvelopeSize, minEnvelopeSize))
		}
	}
	if h.OperationTimeout != "" {
		d, err := wsman.ParseDuration(h.OperationTimeout)
		if err != nil || d <= 0 {
			return r, faultHeader("The XML contains an invalid timeout field in the SOAP header: " + strings.TrimSpace(h.OperationTimeout) + ".")
		}
	}
	return r, nil
}

// envelopeSize is the response size limit the client announced.
func (r *request) envelopeSize() int {
	n, err := strconv.Atoi(strings.TrimSpace(r.Header.MaxEnvelopeSize))
	if err != nil || n < minEnvelopeSize {
		return defaultEnvelopeSize
	}
	if n > maxEnvelopeSizeKB*1024 {
		return maxEnvelopeSizeKB * 1024
	}
	return n
}

// operationTimeout is the request's OperationTimeout, def when absent.
func (r *request) operationTimeout(def time.Duration) time.Duration {
	d, err := wsman.ParseDuration(r.Header.OperationTimeout)
	if err != nil || d <= 0 {
		return def
	}
	return min(d, maxOperationTimeout)
}

// selector returns the value of a wsman:Selector by name.
func (r *request) selector(name string) string {
	for _, s := range r.Header.Selectors {
		if strings.EqualFold(s.Name, name) {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// knownOptions are the wsman:Option names this endpoint understands
// (MS-WSMV 3.1.4.1.10, MS-PSRP 3.1.4.1).
var knownOptions = map[string]bool{
	"protocolversion":                 true,
	"WINRS_NOPROFILE":                 true,
	"WINRS_CODEPAGE":                  true,
	"WINRS_SKIP_CMD_SHELL":            true,
	"WINRS_CONSOLEMODE_STDIN":         true,
	"WSMAN_CMDSHELL_OPTION_KEEPALIVE": true,
}

// checkOptions faults on a MustComply option this endpoint does not know.
func (r *request) checkOptions() *Fault {
	for _, o := range r.Header.Options {
		if !knownOptions[o.Name] && isTrue(o.MustComply) {
			return faultInvalidOptions(fmt.Sprintf("the option %q is marked MustComply and is not supported", o.Name))
		}
	}
	return nil
}

func isTrue(s string) bool {
	s = strings.TrimSpace(s)
	return strings.EqualFold(s, "true") || s == "1"
}

// formatSeconds renders d as Windows does for timeouts: PT7200.000S.
func formatSeconds(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("PT%d.%03dS", ms/1000, ms%1000)
}

// formatDHMS renders d as Windows does for run times: P0DT0H1M2S.
func formatDHMS(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("P%dDT%dH%dM%dS", s/86400, s%86400/3600, s%3600/60, s%60)
}
