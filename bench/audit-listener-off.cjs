// Preload for bench/audit.mjs only (`node --require bench/audit-listener-off.cjs dist/src/main.js`): the
// server runs without the audit listener (events are emitted and nobody stores them), to measure what
// persisting the audit trail costs the token flow. Replacing the method drops its @OnEvent metadata, so
// Nest subscribes nothing. Never used outside the benchmark.
const { join } = require('node:path');
const { AuditListener } = require(join(__dirname, '..', 'dist', 'src', 'audit', 'audit.listener.js'));
AuditListener.prototype.persist = async function persist() {};
