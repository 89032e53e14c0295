package clixml

// TypePSCredential is System.Management.Automation.PSCredential.
const TypePSCredential = "System.Management.Automation.PSCredential"

// PSCredential is a credential as a host returns it from
// PromptForCredential (shared/PROTOCOL.md §2.8): a user name and a
// SecureString encrypted with the session key.
type PSCredential struct {
	UserName string
	Password SecureString
}

// Object builds the PSCredential Obj the way PowerShell serializes it.
func (c PSCredential) Object() *Object {
	return &Object{
		TypeNames:   []string{TypePSCredential, "System.Object"},
		ToString:    TypePSCredential,
		HasToString: true,
		Props:       []Property{{"UserName", c.UserName}, {"Password", c.Password}},
	}
}

// ParsePSCredential reads a PSCredential Obj.
func ParsePSCredential(v Value) (PSCredential, error) {
	const view = "PSCredential"
	o, err := asObject(view, v)
	if err != nil {
		return PSCredential{}, err
	}
	r := &reader{view: view, o: o}
	c := PSCredential{UserName: r.str("UserName", true)}
	pw, ok := r.get("Password", true)
	if ok && pw != nil {
		ss, isSS := pw.(SecureString)
		if !isSS {
			r.fail("Password", "want SS, got "+kindName(pw))
		}
		c.Password = ss
	}
	if r.err != nil {
		return PSCredential{}, r.err
	}
	return c, nil
}
