// Run by scripts/build.mjs after compiling: dumps a migrated, empty PGlite data directory next to dist/
// so that a new embedded database starts in well under a second (see pgliteTemplatePath()).
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { createDataSourceOptions, embeddedDatabase, pgliteTemplatePath } from './data-source';
import { runMigrations } from './migrator';

async function main() {
  const options = await createDataSourceOptions({
    target: { kind: 'pglite', dataDir: null },
    poolSize: 1,
    useTemplate: false,
  });
  const dataSource = await new DataSource(options).initialize();
  await runMigrations(dataSource, { log: () => undefined } as never);
  const db = embeddedDatabase(dataSource)!;
  await db.query('CHECKPOINT');
  const dump = await db.dumpDataDir('gzip');
  writeFileSync(pgliteTemplatePath(), Buffer.from(await dump.arrayBuffer()));
  await dataSource.destroy();
}

main().catch((err) => {
  // not fatal: without a template, a new embedded database is created by initdb (slower first start)
  process.stderr.write(
    `warning: PGlite template not built: ${err instanceof Error ? err.message : String(err)}\n`,
  );
});
