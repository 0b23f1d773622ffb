import { InitialSchema1764201600000 } from './1764201600000-InitialSchema';

/** Every migration, in order (explicit: the same list serves the compiled app, the CLI and the tests). */
export const MIGRATIONS = [InitialSchema1764201600000];
