#!/usr/bin/env python3
"""moto's S3 API on loopback with SigV4 checking on, for the store tests.

Usage: s3_server.py PORT [--bucket NAME ...]   (PORT 0 picks a free port)

Prints one line when ready:
    READY port=<port> access_key=<id> secret_key=<secret> region=us-east-1
The credentials belong to an IAM user that moto creates at start-up; every
request must be signed with them (INITIAL_NO_AUTH_ACTION_COUNT=0).

Like S3 (and unlike moto), a request whose x-amz-content-sha256 is a SHA-256 is
refused with 400 XAmzContentSHA256Mismatch when its body does not hash to it.

Two moto quirks with auth on are fixed here, so that a correct signer passes:
  * moto checks header signatures against the percent-DECODED request URI; we
    make it check against the raw URI the client sent (and signed).
  * presigned URLs answer 500 (moto expects an Authorization header); we verify
    presigned query signatures here and hand moto the request without them.
The server exits when its stdin closes (the test process went away), so no
orphan is left behind.
"""
import datetime
import logging
import hashlib
import hmac
import io
import json
import os
import sys
import threading
import urllib.parse

os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")

try:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequestBase
    from moto.iam.models import iam_backends
    from moto.moto_server.werkzeug_app import create_backend_app
    from moto.s3.models import s3_backends
    from werkzeug.serving import make_server
except ImportError as error:  # pragma: no cover - reported to the test
    sys.stderr.write(f"moto is not installed ({error}); run: pip install 'moto[server]'\n")
    sys.exit(3)

REGION = "us-east-1"

# The two fixes below patch moto internals (tested with moto 5.2.1); fail loudly
# rather than serve with a quirk that would look like a signer bug.
for owner, name in ((IAMRequestBase, "_create_aws_request"),
                    (ActionAuthenticatorMixin, "_authenticate_and_authorize_action")):
    if not hasattr(owner, name):
        sys.stderr.write(f"this moto has no {owner.__name__}.{name}; install a 5.x release: "
                         "pip install 'moto[server]>=5.1,<6'\n")
        sys.exit(3)

_local = threading.local()


def _raw_path_and_query(self):
    raw = getattr(_local, "raw_uri", None)
    return raw if raw is not None else self._path


_original_create_aws_request = IAMRequestBase._create_aws_request


def _create_aws_request(self):
    self._path = _raw_path_and_query(self)
    return _original_create_aws_request(self)


IAMRequestBase._create_aws_request = _create_aws_request

_original_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate(self, iam_request_cls, resource="*"):
    if getattr(_local, "presigned_ok", False):
        return
    return _original_authenticate(self, iam_request_cls, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate


def _sign(key, message):
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


class PresignedCheck:
    """Verifies SigV4 query-string signatures against the one known key pair."""

    def __init__(self, access_key, secret_key):
        self.access_key = access_key
        self.secret_key = secret_key

    def verify(self, environ, path, query):
        pairs = [pair.partition("=") for pair in query.split("&") if pair]
        params = {urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in pairs}
        credential = params.get("X-Amz-Credential", "").split("/")
        if len(credential) != 5 or credential[0] != self.access_key:
            return "InvalidAccessKeyId"
        date = params.get("X-Amz-Date", "")
        try:
            signed_at = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
            expires = int(params.get("X-Amz-Expires", "0"))
        except ValueError:
            return "AuthorizationQueryParametersError"
        if datetime.datetime.now(datetime.timezone.utc) > signed_at + datetime.timedelta(seconds=expires):
            return "AccessDenied"
        canonical_query = "&".join(
            sorted(f"{k}={v}" for k, _, v in pairs if k != "X-Amz-Signature"))
        signed_headers = params.get("X-Amz-SignedHeaders", "host").split(";")
        header_lines = ""
        for name in signed_headers:
            value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
            header_lines += f"{name}:{' '.join(value.split())}\n"
        canonical = "\n".join([
            environ["REQUEST_METHOD"], path, canonical_query, header_lines,
            ";".join(signed_headers), "UNSIGNED-PAYLOAD"])
        scope = "/".join(credential[1:])
        to_sign = "\n".join([
            "AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in credential[1:]:
            key = _sign(key, part)
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
            return "SignatureDoesNotMatch"
        return None


def _error(start_response, code, status="403 Forbidden"):
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{code}</Message></Error>").encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


class RawURIApp:
    """WSGI middleware: remembers the raw request URI and handles presigned requests."""

    def __init__(self, app, presigned):
        self.app = app
        self.presigned = presigned

    def __call__(self, environ, start_response):
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw is None:
            raw = urllib.parse.quote(environ.get("PATH_INFO", ""))
            if environ.get("QUERY_STRING"):
                raw += "?" + environ["QUERY_STRING"]
        path, _, query = raw.partition("?")
        declared = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "").lower()
        if len(declared) == 64 and all(c in "0123456789abcdef" for c in declared):
            length = int(environ.get("CONTENT_LENGTH") or "0")
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            environ["wsgi.input"] = io.BytesIO(body)
            if hashlib.sha256(body).hexdigest() != declared:
                sys.stderr.write("payload refused: XAmzContentSHA256Mismatch\n")
                return _error(start_response, "XAmzContentSHA256Mismatch", "400 Bad Request")
        _local.raw_uri = raw
        _local.presigned_ok = False
        if "X-Amz-Signature=" in query:
            failure = self.presigned.verify(environ, path, query)
            if failure:
                sys.stderr.write(f"presigned request refused: {failure}\n")
                return _error(start_response, failure)
            kept = "&".join(p for p in query.split("&") if p and not p.startswith("X-Amz-"))
            environ["QUERY_STRING"] = kept
            environ["RAW_URI"] = environ["REQUEST_URI"] = path + ("?" + kept if kept else "")
            # moto serves a non-public object only to requests that carry an
            # Authorization header; the signature was checked above instead.
            credential = urllib.parse.unquote(query.split("X-Amz-Credential=", 1)[1].split("&", 1)[0])
            environ["HTTP_AUTHORIZATION"] = (
                f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=checked")
            _local.presigned_ok = True
        try:
            return self.app(environ, start_response)
        finally:
            _local.raw_uri = None


def main():
    args = sys.argv[1:]
    if not args:
        sys.stderr.write(__doc__)
        sys.exit(2)
    port = int(args[0])
    buckets = [args[i + 1] for i, a in enumerate(args) if a == "--bucket" and i + 1 < len(args)]

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["global"] if "global" in iam_backends[DEFAULT_ACCOUNT_ID] else iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    iam.create_user(region_name=REGION, user_name="sqbackup-test")
    policy = iam.create_policy(
        description="store tests", path="/", policy_name="sqbackup-s3",
        policy_document=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        tags=[])
    iam.attach_user_policy(policy.arn, "sqbackup-test")
    key = iam.create_access_key("sqbackup-test")
    s3 = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for bucket in buckets:
        s3.create_bucket(bucket, REGION)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = RawURIApp(create_backend_app("s3"), PresignedCheck(key.access_key_id, key.secret_access_key))
    server = make_server("127.0.0.1", port, app, threaded=True)

    def watch_stdin():
        try:
            while sys.stdin.read(1):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(1800, lambda: os._exit(0)).start()  # never outlive a test run by much
    print(f"READY port={server.server_port} access_key={key.access_key_id} "
          f"secret_key={key.secret_access_key} region={REGION}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
