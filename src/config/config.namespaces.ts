import { ConfigType, registerAs } from '@nestjs/config';
import { LatchkeyEnvironment, loadEnvironment } from './environment';

/**
 * The environment is parsed once per process (loadEnvironment validates everything and fails fast);
 * each concern reads its own typed namespace:  @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig
 */
let cached: LatchkeyEnvironment | undefined;
export function environment(): LatchkeyEnvironment {
  cached ??= loadEnvironment();
  return cached;
}
/** Tests build apps with their own environment. */
export function setEnvironment(env: LatchkeyEnvironment | undefined): void {
  cached = env;
}

export const serverConfig = registerAs('server', () => {
  const e = environment();
  return {
    production: e.production,
    port: e.port,
    host: e.host,
    issuer: e.issuer,
    secureCookies: e.issuer.startsWith('https:'),
    trustProxy: e.trustProxy,
    dataDir: e.dataDir,
    logLevel: e.logLevel,
    bodyLimit: e.bodyLimit,
    maxConnections: e.maxConnections,
    headersTimeoutMs: e.headersTimeoutMs,
    sessionSecret: e.sessionSecret,
    generatedSecrets: e.generatedSecrets,
    clusterWorkers: e.clusterWorkers,
    logFormat: e.logFormat,
    docs: e.docs,
    branding: e.branding,
  };
});

export const databaseConfig = registerAs('database', () => {
  const e = environment();
  return { target: e.database, poolSize: e.databasePoolSize, dataDir: e.dataDir };
});

export const oauthConfig = registerAs('oauth', () => {
  const e = environment();
  return {
    issuer: e.issuer,
    authCodeTtl: e.authCodeTtl,
    accessTokenTtl: e.accessTokenTtl,
    refreshTokenTtl: e.refreshTokenTtl,
    idTokenTtl: e.idTokenTtl,
    passwordMinLength: e.passwordMinLength,
    refreshReuseGrace: e.refreshReuseGrace,
    scopes: e.scopes,
    accessTokenAudience: e.accessTokenAudience,
    sessionIdleTtl: e.sessionIdleTtl,
    sessionAbsoluteTtl: e.sessionAbsoluteTtl,
    clientSecretRotationOverlap: e.clientSecretRotationOverlap,
    clientCacheTtlMs: e.clientCacheTtlMs,
    dpopProofMaxAge: e.dpopProofMaxAge,
    dpopRequireNonce: e.dpopRequireNonce,
    parTtl: e.parTtl,
    requirePar: e.requirePar,
    sessionSecret: e.sessionSecret,
  };
});

export const keysConfig = registerAs('keys', () => {
  const e = environment();
  return {
    keyEncryptionKey: e.keyEncryptionKey,
    publishDelay: e.keyPublishDelay,
    // a retired key stays in the JWKS until every token it signed (access and id tokens) has expired
    maxTokenLifetime: Math.max(e.accessTokenTtl, e.idTokenTtl),
  };
});

export const auditConfig = registerAs('audit', () => {
  const e = environment();
  return {
    retention: e.auditRetention,
    flushIntervalMs: e.auditFlushIntervalMs,
    queryConcurrency: e.auditQueryConcurrency,
    statementTimeoutMs: e.auditStatementTimeoutMs,
    reportMaxWindow: e.auditReportMaxWindow,
    reportThresholds: e.reportThresholds,
  };
});

export const abuseConfig = registerAs('abuse', () => {
  const e = environment();
  return {
    rateLimitToken: e.rateLimitToken,
    rateLimitAuthorize: e.rateLimitAuthorize,
    rateLimitWindow: e.rateLimitWindow,
    rateLimitApi: e.rateLimitApi,
    rateLimitMaxKeys: e.rateLimitMaxKeys,
    lockoutThreshold: e.lockoutThreshold,
    lockoutBase: e.lockoutBase,
    lockoutMax: e.lockoutMax,
    clientAuthFailureLimit: e.clientAuthFailureLimit,
    loginConcurrency: e.loginConcurrency,
    loginQueue: e.loginQueue,
    loginBudget: e.loginBudget,
  };
});

export type ServerConfig = ConfigType<typeof serverConfig>;
export type DatabaseConfig = ConfigType<typeof databaseConfig>;
export type OAuthConfig = ConfigType<typeof oauthConfig>;
export type KeysConfig = ConfigType<typeof keysConfig>;
export type AuditConfig = ConfigType<typeof auditConfig>;
export type AbuseConfig = ConfigType<typeof abuseConfig>;

export const ALL_NAMESPACES = [
  serverConfig,
  databaseConfig,
  oauthConfig,
  keysConfig,
  auditConfig,
  abuseConfig,
];
