package clixml

import "testing"

// TestMethodIDVoid checks which RemoteHostMethodIds expect no response
// (MS-PSRP 3.1.5.4.5): the setters, writes, notifications and runspace
// pushes are void; getters, reads and prompts are answered.
func TestMethodIDVoid(t *testing.T) {
	for _, tc := range []struct {
		m    MethodID
		want bool
	}{
		{MethodGetName, false},
		{MethodSetShouldExit, true},
		{MethodReadLine, false},
		{MethodReadLineAsSecureString, false},
		{MethodWrite1, true},
		{MethodWriteLine2, true},
		{MethodWriteProgress, true},
		{MethodPrompt, false},
		{MethodPromptForChoice, false},
		{MethodGetForegroundColor, false},
		{MethodSetForegroundColor, true},
		{MethodGetBufferContents, false},
		{MethodScrollBufferContents, true},
		{MethodPushRunspace, true},
		{MethodPopRunspace, true},
		{MethodGetIsRunspacePushed, false},
		{MethodPromptForChoiceMultipleSelection, false},
		{MethodID(0), false},
		{MethodID(57), false},
	} {
		t.Run(tc.m.String(), func(t *testing.T) {
			if got := tc.m.Void(); got != tc.want {
				t.Errorf("%s.Void() = %v, want %v", tc.m, got, tc.want)
			}
		})
	}
}
