"""The same login with google-auth-oauthlib's InstalledAppFlow.run_local_server
(Debian package python3-google-auth-oauthlib), then GET /user with urllib and
the token written to a 0600 file. A benchmark peer for loopauth.

Usage: google_flow.py ORIGIN CLIENT_ID CLIENT_SECRET TOKEN_FILE
"""
import json
import os
import sys
import urllib.request

# The built-in provider is plain http on loopback, and answers scopes comma-separated.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"

from google_auth_oauthlib.flow import InstalledAppFlow  # noqa: E402

origin, client_id, client_secret, token_file = sys.argv[1:5]
flow = InstalledAppFlow.from_client_config({"installed": {
    "client_id": client_id,
    "client_secret": client_secret,
    "auth_uri": f"{origin}/login/oauth/authorize",
    "token_uri": f"{origin}/login/oauth/access_token",
}}, scopes=["read:user"], autogenerate_code_verifier=True)
credentials = flow.run_local_server(
    host="127.0.0.1", port=0, open_browser=False,
    authorization_prompt_message="{url}", success_message="Logged in. Return to the terminal.",
)
token = credentials.token
user = json.load(urllib.request.urlopen(urllib.request.Request(
    f"{origin}/api/v3/user", headers={"Authorization": f"token {token}"})))
fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump({"login": user["login"], "token": token}, f)
print(f"Logged in as {user['login']}")
