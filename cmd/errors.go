package cmd

import (
	"errors"

	"github.com/pssession/pssession/remote/wsman"
)

// describeError turns an error into the text shown to the user, with the
// explanation of well-known WS-Man faults.
func describeError(err error) string {
	var f *wsman.Fault
	if errors.As(err, &f) {
		if hint := f.Friendly(); hint != "" {
			return err.Error() + "\n" + hint
		}
	}
	return err.Error()
}
