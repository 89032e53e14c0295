// Package endpoint is a loopback WinRM/PSRP server: an http.Handler for
// /wsman that speaks WS-Management (MS-WSMV) and serves the WinRS cmd shell
// and PowerShell remoting shells (MS-PSRP) backed by pluggable engines.
//
// It is a TEST AND DEMO TARGET, not a production WinRM service: it lets
// pssession's own client, Debian's python3-winrm and masterzen/winrm be
// exercised on a machine with no Windows host, and backs `pssession demo`
// and `pssession serve`. Responses are shaped like the Windows responses
// recorded in shared/vectors/windows (same elements, namespaces and fault
// codes, MS-WSMV 3.1.4), parsed by namespace URI, never by prefix.
//
// Layering: endpoint sits above remote/wsman (envelopes, transport auth)
// and remote/psrp (the sans-IO protocol core in its server role). It is the
// only place where server-side goroutines, processes and timers live.
//
// # Resources and operations
//
//   - http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd (WinRS):
//     Create, Command, Send, Receive, Signal, Delete. A command line runs via
//     /bin/sh -c; "cmd /c" is stripped; "powershell[.exe] -EncodedCommand
//     <base64 UTF-16LE>" (what pywinrm's run_ps sends) and "powershell
//     -Command <script>" run the script once with the configured engine.
//   - http://schemas.microsoft.com/powershell/<ConfigurationName>
//     (Microsoft.PowerShell and Config.Configurations): runspace pools over
//     psrp.ServerPool (Create, Command, Send, Receive, Signal, Delete,
//     Disconnect, Reconnect, Connect).
//   - http://schemas.microsoft.com/wbem/wsman/1/windows/shell: Get and
//     Enumerate (optimized and Pull) of the caller's shells;
//     .../windows/shell/Command: Enumerate of a shell's commands.
//   - http://schemas.microsoft.com/wbem/wsman/1/config: Get (MaxEnvelopeSizekb).
//
// Shells belong to the authenticated user (Config.User, "anonymous" when no
// authentication wraps the handler) and are deleted after their idle
// timeout (Config.Clock makes that testable).
//
// # Engines
//
// An Engine runs one pipeline's script for a runspace: see Engine, Scripted
// and Sh. The scripted engine interprets a tiny deterministic language meant
// for tests; statements are separated by ';' or newlines:
//
//	Write-Output a b          output objects (strings; integers stay integers)
//	'text' / "text" / 42      a bare value is output
//	Write-Error msg           error record (non-terminating)
//	Write-Warning msg         warning record; also Write-Verbose, Write-Debug,
//	                          Write-Information
//	Write-Host [-ForegroundColor c] [-BackgroundColor c] [-NoNewline] text
//	Write-Progress -Activity a [-Status s] [-PercentComplete n]
//	Read-Host [-AsSecureString] [prompt]     host call; outputs the answer
//	Get-Credential [user]     host call PromptForCredential; outputs "user"
//	Read-Choice caption message choice1 choice2 ...
//	                          host call PromptForChoice; outputs the index
//	Start-Sleep -Seconds N | -Milliseconds N   (stopped by Ctrl+C)
//	$name = value             per-runspace variable; $name outputs it, and
//	                          $name inside other statements is expanded
//	Set-Location path / cd path; Get-Location / pwd
//	prompt                    outputs "PS <location>> "
//	Get-Output -Lines N       N lines "line 1" .. "line N"
//	param($a, $b)             binds the script's positional arguments
//	                          (Invoke-Command -ArgumentList); $args holds
//	                          them all, separated by blanks
//	exit [N]                  SetShouldExit(N) and ends the pipeline
//	throw msg                 the pipeline fails with msg
//
// Anything else fails the statement with a "term not recognized" error record.
// Words are split on blanks; single or double quotes group words; "| Out-String"
// style tails and formatting commands of the pipeline are ignored.
//
// The sh engine runs each pipeline's script in one persistent /bin/sh per
// runspace: stdout lines are output objects, stderr lines error records,
// "prompt" answers "PS <cwd>> ", $LASTEXITCODE the last script's exit status,
// "exit N" asks the client to exit, and a stop
// (Ctrl+C) kills the shell's process group and restarts it in the same
// directory (shell variables are lost then).
//
// # Limits
//
// Everything a peer controls is bounded in limits.go: request size, envelope
// size, operation timeout, buffered output, shells per user, commands per
// shell, enumeration contexts.
package endpoint
