if (!/^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')) {
  console.error('test:pg needs DATABASE_URL=postgres://… (a server where it may create and drop databases)');
  process.exit(1);
}
