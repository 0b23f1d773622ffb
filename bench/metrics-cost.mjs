#!/usr/bin/env node
// `node bench/metrics-cost.mjs` (after `npm run build`): the CPU the metrics add per authorization-code flow,
// measured in isolation (process CPU time, so a loaded machine slows it less than a throughput benchmark): one
// flow is two HTTP responses (GET /oauth/authorize, POST /oauth/token) through the onResponse hook and three audit
// events (authorization.requested, authorization_code.issued, token.issued) through the metrics listener.
// Compare the result with the server's CPU per flow from `npm run bench` (docs/performance.md).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { LatchkeyMetrics } = require('../dist/src/metrics/latchkey-metrics.js');
const { registerHttpMetrics } = require('../dist/src/metrics/http-metrics.js');
const { AuditMetricsListener } = require('../dist/src/metrics/audit-metrics.listener.js');

const N = Number(process.env.N ?? 500_000);
const metrics = new LatchkeyMetrics(() => 0, () => null);
let hook;
registerHttpMetrics({ addHook: (_name, fn) => (hook = fn) }, metrics);
const listener = new AuditMetricsListener(metrics, () => true);
const done = () => undefined;
const authorize = { method: 'GET', routeOptions: { url: '/oauth/authorize' } };
const token = { method: 'POST', routeOptions: { url: '/oauth/token' } };
const found = { statusCode: 302, elapsedTime: 3.1 };
const ok = { statusCode: 200, elapsedTime: 4.7 };
const events = [
  { type: 'authorization.requested', outcome: 'success', details: { scope: 'api:read' } },
  { type: 'authorization_code.issued', outcome: 'success', details: { scope: 'api:read', challenge_sha256: 'x' } },
  { type: 'token.issued', outcome: 'success', details: { grant_type: 'authorization_code', scope: 'api:read' } },
];

function cpuMs(fn) {
  const start = process.cpuUsage();
  fn();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
const flow = () => {
  for (let i = 0; i < N; i++) {
    hook(authorize, found, done);
    hook(token, ok, done);
    listener.onAuditEvent(events[0]);
    listener.onAuditEvent(events[1]);
    listener.onAuditEvent(events[2]);
  }
};
flow(); // warm-up (JIT, label children)
const runs = [cpuMs(flow), cpuMs(flow), cpuMs(flow)].map((ms) => (ms * 1000) / N);
metrics.collectProcessMetrics();
const before = process.cpuUsage();
for (let i = 0; i < 100; i++) await metrics.registry.metrics();
const spent = process.cpuUsage(before);
const scrape = (spent.user + spent.system) / 1000 / 100;
console.log(
  JSON.stringify({
    flows: N,
    metrics_cpu_us_per_flow: runs.map((v) => Number(v.toFixed(2))),
    scrape_cpu_ms: Number(scrape.toFixed(2)),
  }),
);
