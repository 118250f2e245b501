// Starts the open-source unleash-server for tests/lua/unleash_server_test.lua:
//   node start.mjs <port> <postgres-url> <admin-token>
// It listens on 127.0.0.1:<port>, migrates the (empty) database on first start, and accepts
// <admin-token> (form "*:*.<secret>") as an admin API token from the start, so a test needs no
// login. Nothing talks to the network: version checks and telemetry are off. Logs errors only.
import { start, LogLevel } from 'unleash-server';

process.noDeprecation = true; // the pg driver's deprecation notices say nothing about the test
const [port, databaseUrl, adminToken] = process.argv.slice(2);
if (!/^\d+$/.test(port ?? '') || !databaseUrl || !adminToken) {
  console.error('usage: node start.mjs <port> <postgres-url> <admin-token>');
  process.exit(2);
}

const startedAt = Date.now();
const unleash = await start({
  databaseUrl,
  db: { ssl: false },
  server: { host: '127.0.0.1', port: Number(port), unleashUrl: `http://127.0.0.1:${port}` },
  logLevel: LogLevel.error,
  versionCheck: { enable: false },
  telemetry: false,
  authentication: {
    initApiTokens: [{ tokenName: 'assay-test-admin', type: 'admin', environment: '*', projects: ['*'], secret: adminToken }],
  },
});
console.log(`unleash-server ${unleash.version ?? ''} listening on 127.0.0.1:${port} after ${Date.now() - startedAt} ms`);

// The test stops the server with SIGTERM; let unleash close its pool, but never hang on it.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    setTimeout(() => process.exit(0), 3000).unref();
    unleash.stop().then(() => process.exit(0), () => process.exit(0));
  });
}
