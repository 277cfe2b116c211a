// A real OpenID Connect provider for the single sign-on tests (npm `oidc-provider`).
//
//   node tests/identity/oidc_provider.mjs CONFIG.json
//
// CONFIG: {"issuers": [{"port": 4001, "accounts": "accounts.json",
//           "clients": [{"client_id": …, "client_secret": …, "redirect_uris": […]}]}]}
// Each issuer listens on 127.0.0.1:<port> with its static client(s). Its accounts file is read
// again at every sign-in, so a test changes a person's claims (or removes them) by rewriting it:
//   {"alice": {"password": "…", "claims": {"email": …, "organization": …, "roles": […]},
//              "amr": ["pwd", "otp"], "acr": "…", "refuse": false}}
// The login form is this script's own (no devInteractions): Username, Password, "Sign in", and
// "Refuse" to make the provider answer access_denied. Consent is implied for the static client.
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function loginForm(uid, issuerName, error = '') {
  return page(`${issuerName}: sign in`, `
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
  <label for="login">Username</label> <input id="login" name="login" autocomplete="username" required>
  <label for="password">Password</label> <input id="password" name="password" type="password" required>
  <button type="submit" name="action" value="login">Sign in</button>
  <button type="submit" name="action" value="refuse" formnovalidate>Refuse</button>
</form>`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

function start(issuerConfig) {
  const issuer = `http://127.0.0.1:${issuerConfig.port}`;
  const name = issuerConfig.name || issuer;
  const accounts = () => JSON.parse(fs.readFileSync(issuerConfig.accounts, 'utf8'));

  const provider = new Provider(issuer, {
    clients: issuerConfig.clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      ...client,
    })),
    cookies: { keys: ['tgb-test-cookie-key'] },
    claims: {
      // acr and amr are issued only when asked for, unless a scope names them: the portal
      // reads them from every ID token, so the openid scope carries them.
      sid: null,
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'organization', 'roles', 'account_disabled'],
    },
    acrValues: ['urn:tgb:password', 'urn:tgb:mfa'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = accounts()[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
    },
    // The static client is the portal itself: its scopes need no consent screen.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const found = await ctx.oidc.provider.Grant.find(grantId);
        if (found) return found;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });

  const callback = provider.callback();
  const server = http.createServer(async (req, res) => {
    const match = new URL(req.url, issuer).pathname.match(/^\/interaction\/([^/]+)$/);
    if (!match) {
      callback(req, res);
      return;
    }
    try {
      const details = await provider.interactionDetails(req, res);
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      if (req.method !== 'POST') {
        res.end(loginForm(details.uid, name));
        return;
      }
      const form = await readBody(req);
      if (form.get('action') === 'refuse') {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'Sign-in refused' });
        return;
      }
      const login = form.get('login') || '';
      const account = accounts()[login];
      if (account?.refuse) {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'Account refused' });
        return;
      }
      if (!account || account.password !== form.get('password')) {
        res.statusCode = 200;
        res.end(loginForm(details.uid, name, 'Unknown username or wrong password.'));
        return;
      }
      const result = { login: { accountId: login, amr: account.amr || ['pwd'], acr: account.acr || 'urn:tgb:password' } };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    } catch (error) {
      res.statusCode = 400;
      res.end(page('Interaction failed', `<p>${escape(error.message)}</p>`));
    }
  });
  server.listen(issuerConfig.port, '127.0.0.1', () => {
    process.stdout.write(`listening ${issuer}\n`);
  });
  return server;
}

const servers = config.issuers.map(start);
const stop = () => { servers.forEach((server) => server.close()); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
