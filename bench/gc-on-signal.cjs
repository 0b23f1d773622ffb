// Preloaded into the server by bench/abuse-load.mjs (`node --expose-gc -r bench/gc-on-signal.cjs`, a test-only
// flag and preload): on SIGWINCH — a signal nothing else in the server listens to (Nest's shutdown hooks take
// SIGUSR2) — the server runs full garbage collections and prints `gc-done` with its memory on stderr, so the load
// test reads the RSS of what the server retains rather than of garbage V8 has not collected yet.
'use strict';
process.on('SIGWINCH', () => {
  global.gc?.();
  global.gc?.();
  const m = process.memoryUsage();
  const mb = (n) => Math.round(n / 1048576);
  process.stderr.write(
    `gc-done ${JSON.stringify({ rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external) })}\n`,
  );
});
