#!/usr/bin/env bash
# The tour of docs/getting-started.md, runnable: with the server running (`npm start`) in another terminal,
#   bash scripts/tour.sh
# Every variable is set by the commands; the port comes from PORT (or the URL from ISSUER), like the server's.
# The one step for a person: open the printed URL in a browser, sign in as ada and allow; this script listens
# on the redirect URI (127.0.0.1:$CALLBACK_PORT) and takes the code from there.
set -euo pipefail
cd "$(dirname "$0")/.."

LK=${ISSUER:-http://localhost:${PORT:-3000}}
CALLBACK_PORT=${CALLBACK_PORT:-8765}
REDIRECT_URI="http://127.0.0.1:$CALLBACK_PORT/callback"
USERNAME=${TOUR_USERNAME:-ada}
PASSWORD=${TOUR_PASSWORD:-correct horse battery staple}
# one JSON field of stdin (Node is there anyway: it runs the CLI)
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];if(v==null){console.error(s);process.exit(1)}console.log(v)})' "$1"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. an admin client (the CLI makes the first one) and its token (client_credentials)"
ADMIN=$(npm run -s cli -- client:create --name admin --grant-types client_credentials \
  --scope "clients:read clients:write audit:read" --json)
AID=$(echo "$ADMIN" | field client_id)
ASECRET=$(echo "$ADMIN" | field client_secret)
TOKEN=$(curl -sf -u "$AID:$ASECRET" -d grant_type=client_credentials "$LK/oauth/token" | field access_token)
echo "admin client $AID, token ${TOKEN:0:16}…"

step "2. a public client (a SPA or native app) through the admin API, and an end user who may read the audit trail"
APP=$(curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$LK/admin/clients" -d '{
  "client_name":"Demo app","token_endpoint_auth_method":"none",
  "redirect_uris":["'"$REDIRECT_URI"'"],
  "grant_types":["authorization_code","refresh_token"],"scope":"openid profile email api:read api:write"}')
CID=$(echo "$APP" | field client_id)
echo "public client $CID"
printf '%s\n' "$PASSWORD" | npm run -s cli -- user:create --username "$USERNAME" --password-stdin \
  || echo "($USERNAME exists already)"
npm run -s cli -- user:permit --username "$USERNAME" --permission audit:read

step "3. PKCE: a verifier and its S256 challenge; open the authorization URL, sign in as $USERNAME, allow"
VERIFIER=$(node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")
CHALLENGE=$(node -e "console.log(require('crypto').createHash('sha256').update(process.argv[1]).digest('base64url'))" -- "$VERIFIER")
STATE=$(node -e "console.log(require('crypto').randomBytes(8).toString('hex'))")
AUTHORIZE_URL="$LK/oauth/authorize?response_type=code&client_id=$CID&redirect_uri=$(node -p 'encodeURIComponent(process.argv[1])' "$REDIRECT_URI")&scope=openid%20profile%20api%3Aread&state=$STATE&code_challenge=$CHALLENGE&code_challenge_method=S256"
echo "Open in a browser: $AUTHORIZE_URL"
# the redirect URI, for one request: prints the query the browser brings back (code, state, iss)
CALLBACK=$(node -e '
  const http = require("http");
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname !== "/callback") { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Demo app</title><h1>Demo app: signed in. Back to the terminal.</h1>");
    console.log(url.search.slice(1));
    server.close(); setImmediate(() => process.exit(0));
  }).listen(Number(process.argv[1]), "127.0.0.1");
  setTimeout(() => { console.error("no browser came back within 5 minutes"); process.exit(1); }, 300000).unref();
' "$CALLBACK_PORT")
q() { node -p 'new URLSearchParams(process.argv[1]).get(process.argv[2]) ?? ""' "$CALLBACK" "$1"; }
[ "$(q state)" = "$STATE" ] || { echo "state mismatch: $CALLBACK" >&2; exit 1; }
[ "$(q iss)" = "$LK" ] || { echo "iss is not $LK: $CALLBACK" >&2; exit 1; }
CODE=$(q code)
[ -n "$CODE" ] || { echo "no code: $CALLBACK" >&2; exit 1; }
echo "code received (state and iss checked)"

step "4. exchange the code, refresh, introspect, userinfo, revoke"
TOKENS=$(curl -sf "$LK/oauth/token" -d grant_type=authorization_code -d client_id="$CID" -d code="$CODE" \
  --data-urlencode redirect_uri="$REDIRECT_URI" -d code_verifier="$VERIFIER")
ACCESS=$(echo "$TOKENS" | field access_token)
REFRESH=$(echo "$TOKENS" | field refresh_token)
echo "access token ${ACCESS:0:16}…, scope $(echo "$TOKENS" | field scope)"
TOKENS=$(curl -sf "$LK/oauth/token" -d grant_type=refresh_token -d client_id="$CID" -d refresh_token="$REFRESH")
ACCESS=$(echo "$TOKENS" | field access_token)
REFRESH=$(echo "$TOKENS" | field refresh_token)
echo "refreshed (the old refresh token is spent)"
curl -sf -u "$AID:$ASECRET" "$LK/oauth/introspect" -d token="$ACCESS"; echo

# OpenID Connect: the scope had openid, so the token response carried an id_token; userinfo says who signed in
echo "id_token $(echo "$TOKENS" | field id_token | cut -c1-16)…"
curl -sf -H "Authorization: Bearer $ACCESS" "$LK/oauth/userinfo"; echo

curl -sf "$LK/oauth/revoke" -d client_id="$CID" -d token="$REFRESH"
echo "revoked: $(curl -sf -u "$AID:$ASECRET" "$LK/oauth/introspect" -d token="$ACCESS" | field active) (the grant is gone)"

step "5. what an auditor sees"
curl -sf -H "Authorization: Bearer $TOKEN" "$LK/audit/events?limit=3"; echo
curl -sf -H "Authorization: Bearer $TOKEN" "$LK/audit/reports/security" | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`report: ${r.total_requests} requests, ${r.failures} failed, ${r.findings.length} findings`)})'
echo "In a browser: $LK/audit/reports/security (sign in as $USERNAME: the permission audit:read was given in step 2)"
step "done"
