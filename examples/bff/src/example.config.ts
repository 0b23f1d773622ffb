/** The example's settings, from the environment (all optional for a local Latchkey started with `npm start`). */
export interface ExampleConfig {
  /** where the example listens, e.g. http://127.0.0.1:4000 (use 127.0.0.1: Latchkey refuses localhost redirect URIs) */
  url: string;
  port: number;
  issuer: string;
  audience: string;
  clientId: string;
  clientSecret?: string;
  scope: string;
}

export function exampleConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const port = Number(env.EXAMPLE_PORT ?? 4000);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error('EXAMPLE_PORT must be a port number');
  const issuer = env.LATCHKEY_ISSUER ?? 'http://localhost:3000';
  if (!env.EXAMPLE_CLIENT_ID)
    throw new Error('EXAMPLE_CLIENT_ID is required (npm run example registers one)');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    issuer,
    audience: env.LATCHKEY_AUDIENCE ?? issuer,
    clientId: env.EXAMPLE_CLIENT_ID,
    clientSecret: env.EXAMPLE_CLIENT_SECRET || undefined,
    scope: env.EXAMPLE_SCOPE ?? 'api:read',
  };
}
