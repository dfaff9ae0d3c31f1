// An independent OpenID provider (node-oidc-provider) configured the way a
// Keycloak realm is for CaseBridge: ES256 signing keys, the agency in a
// user attribute claim, roles nested in realm_access.roles, JWT access
// tokens for the API audience (resource indicator), PKCE, RFC 9207 iss in
// authorization responses. The interop test (internal/app/interop_test.go)
// runs the portal against it. Test use only: listens on loopback.
//
// usage: node keycloak-like-idp.mjs <portal base URL>
// prints one line of JSON: {"issuer": "..."}
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const portal = process.argv[2];
if (!portal) {
  console.error('usage: keycloak-like-idp.mjs <portal base URL>');
  process.exit(2);
}
const audience = process.env.CB_AUDIENCE || 'urn:casebridge:api';

// Accounts as a realm would hold them: user attributes and realm roles.
const accounts = {
  'gdi-officer': { name: 'GDI Officer', agency: 'gdi', roles: ['officer', 'offline_access', 'uma_authorization'] },
  'emb-vn-liaison': { name: 'VN Liaison', agency: 'emb-vn', roles: ['liaison'] },
  'nobody': { name: 'Nobody', agency: 'no-such-agency', roles: ['officer'] },
};
const claimsOf = (id) => {
  const a = accounts[id];
  if (!a) return undefined;
  return {
    sub: randomUUIDFor(id), name: a.name, preferred_username: id, email: `${id}@example.org`,
    agency: a.agency, realm_access: { roles: a.roles },
  };
};
const subs = {};
function randomUUIDFor(id) {
  subs[id] ??= randomUUID();
  return subs[id];
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' };

const configuration = {
  clients: [
    {
      client_id: 'casebridge-portal', client_secret: 'portal-secret',
      redirect_uris: [`${portal}/auth/callback`], post_logout_redirect_uris: [`${portal}/`],
      grant_types: ['authorization_code'], response_types: ['code'],
      id_token_signed_response_alg: 'ES256', token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'emb-vn-case-system', client_secret: 'partner-secret',
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'agency', 'realm_access'],
    email: ['email'],
  },
  // Keycloak puts the mapped claims into the ID token itself.
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) => {
    const claims = claimsOf(id);
    if (!claims) return undefined;
    return { accountId: id, claims: async () => claims };
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'openid profile', audience, accessTokenFormat: 'jwt', accessTokenTTL: 300,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  // Client credentials tokens of a partner system carry its agency and
  // roles as a Keycloak service account's do; user tokens their claims.
  extraTokenClaims: async (_ctx, token) => {
    if (token.kind === 'ClientCredentials' && token.clientId === 'emb-vn-case-system') {
      return { agency: 'emb-vn', realm_access: { roles: ['liaison'] }, sub: 'service-account-emb-vn' };
    }
    if (token.accountId) {
      const c = claimsOf(token.accountId);
      return { agency: c.agency, realm_access: c.realm_access };
    }
    return undefined;
  },
  ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 600, Grant: 600 },
  cookies: { keys: [randomUUID()] },
  loadExistingGrant: async (ctx) => {
    // Consent as a realm client without consent screens: grant what is asked.
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    grant.addOIDCClaims(['sub', 'name', 'preferred_username', 'email', 'agency', 'realm_access']);
    grant.addResourceScope(audience, 'openid profile');
    await grant.save();
    return grant;
  },
};

const server = (await import('node:http')).createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
