import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** Latchkey's version, from package.json (dist/src/common/ or src/common/ → the package root, else the cwd). */
export function latchkeyVersion(): string {
  if (cached) return cached;
  const candidates = [
    ...(typeof __dirname === 'string'
      ? [join(__dirname, '..', '..', '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]
      : []),
    join(process.cwd(), 'package.json'),
  ];
  for (const file of candidates) {
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'latchkey' && pkg.version) return (cached = pkg.version);
    } catch {
      // next candidate
    }
  }
  return (cached = 'unknown');
}
