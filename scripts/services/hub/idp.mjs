// The OpenID Connect provider of the hub rig (scripts/services/hub.sh): panva's oidc-provider
// with a plain password form, one confidential client (the hub), refresh tokens, 127.0.0.1 only.
// Everything comes from the JSON file named by ESAP_IDP_CONFIG:
//   {port, issuer, pid_file, keys_file, access_token_ttl, users: {name: {password, email}},
//    client: {client_id, client_secret, redirect_uri}, public_clients: [{client_id, redirect_uris}]}
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const conf = JSON.parse(fs.readFileSync(process.env.ESAP_IDP_CONFIG, 'utf8'));

// signing and cookie keys survive a restart (tokens already issued stay verifiable)
let keys;
if (fs.existsSync(conf.keys_file)) {
  keys = JSON.parse(fs.readFileSync(conf.keys_file, 'utf8'));
} else {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  keys = {
    jwk: { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig' },
    cookie: crypto.randomBytes(32).toString('hex'),
  };
  fs.writeFileSync(conf.keys_file, JSON.stringify(keys), { mode: 0o600 });
}

const ttl = Number(conf.access_token_ttl || 600);
const provider = new Provider(conf.issuer, {
  clients: [{
    client_id: conf.client.client_id,
    client_secret: conf.client.client_secret,
    redirect_uris: [conf.client.redirect_uri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // oauthenticator posts its credentials in the body
    token_endpoint_auth_method: 'client_secret_post',
  },
  // other services logging users in through this provider (DiracX): public clients with PKCE
  ...(conf.public_clients || []).map((c) => ({
    client_id: c.client_id,
    redirect_uris: c.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  }))],
  async findAccount(ctx, id) {
    const user = conf.users[id];
    return user && {
      accountId: id,
      claims: async () => ({ sub: id, preferred_username: id, email: user.email, email_verified: true }),
    };
  },
  claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/login/${interaction.uid}` },
  // a refresh token with every code grant (without it, only with offline_access + consent)
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  ttl: { AccessToken: ttl, IdToken: ttl, AuthorizationCode: 60, RefreshToken: 86400,
         Grant: 86400, Session: 86400, Interaction: 600 },
  cookies: { keys: [keys.cookie] },
  jwks: { keys: [keys.jwk] },
});
provider.on('grant.success', (ctx) => console.log(`token issued (${ctx.oidc.params?.grant_type})`));
provider.on('grant.error', (ctx, err) => console.log(`token refused: ${err.message}`));

const html = (s) => String(s).replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
function form(res, uid, status, message) {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><title>Sign in</title><h1>Sign in to the hub</h1>
${message ? `<p id="error">${html(message)}</p>` : ''}
<form id="login" method="post" action="/login/${html(uid)}">
<input id="username" name="username" autofocus> <input id="password" name="password" type="password">
<button id="submit" type="submit">Sign in</button></form>`);
}

const same = (a, b) => crypto.timingSafeEqual(crypto.createHash('sha256').update(String(a)).digest(),
                                              crypto.createHash('sha256').update(String(b)).digest());

async function login(req, res, uid) {
  res.setHeader('cache-control', 'no-store');
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    if (details.prompt.name === 'login') return form(res, uid, 200);
    // the hub is a first-party client: a consent prompt is granted without asking
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details.missingOIDCScope;
    if (missing) grant.addOIDCScope(missing.join(' '));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) throw new Error('form too large');
  }
  const f = Object.fromEntries(new URLSearchParams(body));
  const user = conf.users[f.username];
  if (!user || !f.password || !same(f.password, user.password)) {
    console.log(`wrong password for ${JSON.stringify(f.username)}`);
    return form(res, uid, 401, 'Wrong user name or password.');
  }
  console.log(`signed in: ${f.username}`);
  const grant = new provider.Grant({ accountId: f.username, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope || 'openid'));
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { login: { accountId: f.username }, consent: { grantId } },
                                      { mergeWithLastSubmission: false });
}

const oidc = provider.callback();
const server = http.createServer((req, res) => {
  const m = /^\/login\/([\w-]+)$/.exec(new URL(req.url, conf.issuer).pathname);
  if (!m) return oidc(req, res);
  login(req, res, m[1]).catch((err) => {
    console.error('sign-in failed:', err);
    if (!res.headersSent) form(res, m[1], 400, `Sign-in failed: ${err.message}`);
    else res.end();
  });
});
server.listen(conf.port, '127.0.0.1', () => {
  fs.writeFileSync(conf.pid_file, String(process.pid));
  console.log(`OIDC provider ${conf.issuer} on 127.0.0.1:${conf.port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
