package clixml

// Coordinates is System.Management.Automation.Host.Coordinates.
type Coordinates struct{ X, Y int32 }

// Size is System.Management.Automation.Host.Size.
type Size struct{ Width, Height int32 }

// HostDefaultData is the console state a client advertises in HostInfo
// (MS-PSRP 2.2.3.14, the _hostDefaultData dictionary keyed 0-9).
type HostDefaultData struct {
	ForegroundColor       ConsoleColor // key 0
	BackgroundColor       ConsoleColor // key 1
	CursorPosition        Coordinates  // key 2
	WindowPosition        Coordinates  // key 3
	CursorSize            int32        // key 4
	BufferSize            Size         // key 5
	WindowSize            Size         // key 6
	MaxWindowSize         Size         // key 7
	MaxPhysicalWindowSize Size         // key 8
	WindowTitle           string       // key 9
}

// HostInfo is MS-PSRP 2.2.3.14 HostInfo as sent in INIT_RUNSPACEPOOL and
// CREATE_PIPELINE.
type HostInfo struct {
	DefaultData     *HostDefaultData // nil: no _hostDefaultData member
	IsHostNull      bool
	IsHostUINull    bool
	IsHostRawUINull bool
	UseRunspaceHost bool
}

// NullHostInfo is the no-host form: all four flags true, no default data.
func NullHostInfo() HostInfo {
	return HostInfo{IsHostNull: true, IsHostUINull: true, IsHostRawUINull: true, UseRunspaceHost: true}
}

const (
	typeHashtable   = "System.Collections.Hashtable"
	typeConsoleCol  = "System.ConsoleColor"
	typeCoordinates = "System.Management.Automation.Host.Coordinates"
	typeSize        = "System.Management.Automation.Host.Size"
)

// Object builds HostInfo exactly as Windows PowerShell's client does:
// _hostDefaultData (when present) with the dictionary in key order 9 to 0,
// each value an MS {T, V}, then the four flags.
func (h HostInfo) Object() *Object {
	var members []Property
	if d := h.DefaultData; d != nil {
		tv := func(t string, v Value) Value { return ms(Property{"T", t}, Property{"V", v}) }
		coord := func(c Coordinates) Value { return ms(Property{"x", c.X}, Property{"y", c.Y}) }
		size := func(s Size) Value { return ms(Property{"width", s.Width}, Property{"height", s.Height}) }
		entries := []DictEntry{
			{int32(9), tv("System.String", d.WindowTitle)},
			{int32(8), tv(typeSize, size(d.MaxPhysicalWindowSize))},
			{int32(7), tv(typeSize, size(d.MaxWindowSize))},
			{int32(6), tv(typeSize, size(d.WindowSize))},
			{int32(5), tv(typeSize, size(d.BufferSize))},
			{int32(4), tv("System.Int32", d.CursorSize)},
			{int32(3), tv(typeCoordinates, coord(d.WindowPosition))},
			{int32(2), tv(typeCoordinates, coord(d.CursorPosition))},
			{int32(1), tv(typeConsoleCol, int32(d.BackgroundColor))},
			{int32(0), tv(typeConsoleCol, int32(d.ForegroundColor))},
		}
		data := &Object{TypeNames: []string{typeHashtable, "System.Object"}, Content: ContentDict, Entries: entries}
		members = append(members, Property{"_hostDefaultData", ms(Property{"data", data})})
	}
	members = append(members,
		Property{"_isHostNull", h.IsHostNull},
		Property{"_isHostUINull", h.IsHostUINull},
		Property{"_isHostRawUINull", h.IsHostRawUINull},
		Property{"_useRunspaceHost", h.UseRunspaceHost},
	)
	return ms(members...)
}

// ParseHostInfo reads a HostInfo object. Missing keys of the default data
// leave zero values; values of the wrong shape are errors.
func ParseHostInfo(v Value) (HostInfo, error) {
	const view = "HostInfo"
	o, err := asObject(view, v)
	if err != nil {
		return HostInfo{}, err
	}
	r := &reader{view: view, o: o}
	h := HostInfo{
		IsHostNull:      r.boolean("_isHostNull", false),
		IsHostUINull:    r.boolean("_isHostUINull", false),
		IsHostRawUINull: r.boolean("_isHostRawUINull", false),
		UseRunspaceHost: r.boolean("_useRunspaceHost", false),
	}
	if hd := r.object("_hostDefaultData", false); hd != nil {
		dr := &reader{view: view + "._hostDefaultData", o: hd}
		data := dr.object("data", true)
		if dr.err != nil {
			return HostInfo{}, dr.err
		}
		if data.Content != ContentDict {
			return HostInfo{}, &ShapeError{View: view, Member: "_hostDefaultData.data", Reason: "not a dictionary"}
		}
		d := &HostDefaultData{ForegroundColor: NoColor, BackgroundColor: NoColor}
		for _, e := range data.Entries {
			key, ok := integerValue(e.Key)
			if !ok {
				return HostInfo{}, &ShapeError{View: view, Member: "_hostDefaultData.data", Reason: "key is " + kindName(e.Key)}
			}
			if err := d.set(key, e.Value); err != nil {
				return HostInfo{}, err
			}
		}
		h.DefaultData = d
	}
	if r.err != nil {
		return HostInfo{}, r.err
	}
	return h, nil
}

// set stores the {T, V} value of one _hostDefaultData key.
func (d *HostDefaultData) set(key int64, v Value) error {
	view := "HostInfo._hostDefaultData[" + itoa(key) + "]"
	o, err := asObject(view, v)
	if err != nil {
		return err
	}
	val, _ := o.Member("V")
	r := &reader{view: view, o: o}
	coord := func() Coordinates {
		vo, err := asObject(view+".V", val)
		if err != nil {
			r.fail("V", "want Coordinates")
			return Coordinates{}
		}
		cr := &reader{view: view + ".V", o: vo}
		c := Coordinates{X: cr.i32("x", true), Y: cr.i32("y", true)}
		if cr.err != nil {
			r.fail("V", cr.err.Error())
		}
		return c
	}
	size := func() Size {
		vo, err := asObject(view+".V", val)
		if err != nil {
			r.fail("V", "want Size")
			return Size{}
		}
		sr := &reader{view: view + ".V", o: vo}
		s := Size{Width: sr.i32("width", true), Height: sr.i32("height", true)}
		if sr.err != nil {
			r.fail("V", sr.err.Error())
		}
		return s
	}
	color := func() ConsoleColor {
		c, ok := parseConsoleColor(val)
		if !ok {
			r.fail("V", "not a ConsoleColor")
		}
		return c
	}
	switch key {
	case 0:
		d.ForegroundColor = color()
	case 1:
		d.BackgroundColor = color()
	case 2:
		d.CursorPosition = coord()
	case 3:
		d.WindowPosition = coord()
	case 4:
		d.CursorSize = r.i32("V", true)
	case 5:
		d.BufferSize = size()
	case 6:
		d.WindowSize = size()
	case 7:
		d.MaxWindowSize = size()
	case 8:
		d.MaxPhysicalWindowSize = size()
	case 9:
		d.WindowTitle = r.str("V", false)
	}
	return r.err
}
