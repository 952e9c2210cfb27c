#!/usr/bin/env node
// Mints a development token from the running dev IdP (`npm start` starts it).
//   npm run -s token -- citizen [--sub alice]
//   npm run -s token -- official --authority a1 [--scope "dvd:admin"]
//   npm run -s token -- admin --authority a1
//   npm run -s token -- platform-admin --authority platform
// Prints only the token, so that TOKEN=$(npm run -s token -- citizen) works.
const { parseArgs } = require('node:util');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    authority: { type: 'string' },
    scope: { type: 'string' },
    sub: { type: 'string' },
    ttl: { type: 'string' },
    idp: { type: 'string' },
  },
});
const role = positionals[0] ?? 'citizen';
const roles = ['citizen', 'official', 'admin', 'platform-admin'];
if (!roles.includes(role)) {
  process.stderr.write(`unknown role "${role}"; use one of ${roles.join(', ')}\n`);
  process.exit(2);
}
const idp = values.idp ?? process.env.DEV_IDP_URL ?? `http://127.0.0.1:${process.env.DEV_IDP_PORT ?? 3100}`;
const body = { role };
if (values.sub) body.sub = values.sub;
if (values.scope) body.scope = values.scope;
if (values.ttl) body.ttlSeconds = Number(values.ttl);
if (role !== 'citizen') body.authority = values.authority ?? (role === 'platform-admin' ? 'platform' : undefined);

fetch(`${idp}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  .then(async (res) => {
    const json = await res.json();
    if (!res.ok) {
      process.stderr.write(`dev IdP refused: ${json.detail ?? res.status}${json.errors ? ' ' + JSON.stringify(json.errors) : ''}\n`);
      process.exit(1);
    }
    process.stdout.write(`${json.access_token}\n`);
  })
  .catch((err) => {
    process.stderr.write(`cannot reach the dev IdP at ${idp} (${err.cause?.code ?? err.message}); is \`npm start\` running?\n`);
    process.exit(1);
  });
