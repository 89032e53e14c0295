"""Drives MIT libgssapi (through pykerberos) against the Go code in
kerberos_mit_test.go. One base64 token per line on stdin and stdout.

initiator: prints the AP-REQ, reads the AP-REP, then wraps a message with
gss_wrap_iov (HEADER|DATA|PADDING, as pywinrm does) and prints it, reads a
token sealed by Go and prints its plaintext.

acceptor: reads an AP-REQ and prints the AP-REP (the keytab comes from
KRB5_KTNAME), then the client principal.
"""
import base64
import sys

import kerberos


def out(b64):
    sys.stdout.write(b64 + "\n")
    sys.stdout.flush()


def initiator(spn):
    flags = (kerberos.GSS_C_MUTUAL_FLAG | kerberos.GSS_C_SEQUENCE_FLAG |
             kerberos.GSS_C_CONF_FLAG | kerberos.GSS_C_INTEG_FLAG |
             kerberos.GSS_C_REPLAY_FLAG)
    _, ctx = kerberos.authGSSClientInit(spn, gssflags=flags, mech_oid=kerberos.GSS_MECH_OID_KRB5)
    kerberos.authGSSClientStep(ctx, "")
    out(kerberos.authGSSClientResponse(ctx))
    rep = sys.stdin.readline().strip()
    if kerberos.authGSSClientStep(ctx, rep) != kerberos.AUTH_GSS_COMPLETE:
        raise SystemExit("context not complete after the AP-REP")
    _, pad = kerberos.authGSSClientWrapIov(ctx, base64.b64encode(b"hello from MIT").decode())
    out(kerberos.authGSSClientResponse(ctx))
    sys.stderr.write("pad_len %d\n" % pad)
    sealed = sys.stdin.readline().strip()
    kerberos.authGSSClientUnwrapIov(ctx, sealed)
    out(kerberos.authGSSClientResponse(ctx))


def acceptor(service):
    _, ctx = kerberos.authGSSServerInit(service)
    req = sys.stdin.readline().strip()
    kerberos.authGSSServerStep(ctx, req)
    out(kerberos.authGSSServerResponse(ctx))
    out(base64.b64encode(kerberos.authGSSServerUserName(ctx).encode()).decode())


if __name__ == "__main__":
    {"initiator": initiator, "acceptor": acceptor}[sys.argv[1]](sys.argv[2])
