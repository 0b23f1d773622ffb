/**
 * Something that must be true before /health/ready answers 200 (e.g. a signing key is loaded).
 * Modules provide one under READINESS_CHECKS (multi-provider style: see HealthModule.register).
 */
export interface ReadinessCheck {
  readonly name: string;
  isReady(): Promise<boolean> | boolean;
}
