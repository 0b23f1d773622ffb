import { ConfigType, registerAs } from '@nestjs/config';
import { environment } from '../config/config.namespaces';

/** METRICS and METRICS_HOST, parsed and validated with every other setting (src/config/environment.ts). */
export const metricsConfig = registerAs('metrics', () => environment().metrics);
export type MetricsConfig = ConfigType<typeof metricsConfig>;
