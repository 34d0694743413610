"""The seed-style loopback login written with Python's standard library only:
http.server on 127.0.0.1:0 for one callback, urllib for the token exchange and
GET /user, the token written to a 0600 file. A benchmark peer for loopauth.

Usage: stdlib_flow.py ORIGIN CLIENT_ID CLIENT_SECRET TOKEN_FILE
"""
import base64
import hashlib
import http.server
import json
import os
import secrets
import sys
import urllib.parse
import urllib.request

origin, client_id, client_secret, token_file = sys.argv[1:5]
state = secrets.token_urlsafe(32)
verifier = secrets.token_urlsafe(32)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
result = {}


class Callback(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/callback" or query.get("state", [""])[0] != state or "code" not in query:
            self.send_response(400)
            self.end_headers()
            return
        result["code"] = query["code"][0]
        body = b"<!doctype html><p>Logged in. Return to the terminal.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
redirect_uri = f"http://127.0.0.1:{server.server_port}/callback"
params = urllib.parse.urlencode({
    "client_id": client_id, "redirect_uri": redirect_uri, "scope": "read:user", "state": state,
    "code_challenge": challenge, "code_challenge_method": "S256", "response_type": "code",
})
print(f"{origin}/login/oauth/authorize?{params}", file=sys.stderr, flush=True)
while "code" not in result:
    server.handle_request()
server.server_close()

data = urllib.parse.urlencode({
    "client_id": client_id, "client_secret": client_secret, "code": result["code"],
    "redirect_uri": redirect_uri, "code_verifier": verifier,
}).encode()
request = urllib.request.Request(f"{origin}/login/oauth/access_token", data=data,
                                 headers={"Accept": "application/json"})
token = json.load(urllib.request.urlopen(request))["access_token"]
user = json.load(urllib.request.urlopen(urllib.request.Request(
    f"{origin}/api/v3/user", headers={"Authorization": f"token {token}"})))
fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump({"login": user["login"], "token": token}, f)
print(f"Logged in as {user['login']}")
