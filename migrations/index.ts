import { InitialSchema1764201600000 } from './1764201600000-InitialSchema';
import { AuditReportIndexes1764806400000 } from './1764806400000-AuditReportIndexes';
import { OpenIdConnectAndUsers1764920000000 } from './1764920000000-OpenIdConnectAndUsers';
import { UserPermissions1764940000001 } from './1764940000001-UserPermissions';
import { DpopAndPar1764930000000 } from './1764930000000-DpopAndPar';
import { SealedAuthorizationRequests1764950000000 } from './1764950000000-SealedAuthorizationRequests';
import { AuditRollups1764961800000 } from './1764961800000-AuditRollups';
import { AuditEventIndexes1764963600000 } from './1764963600000-AuditEventIndexes';
import { GrantDeletionIndexes1765090000000 } from './1765090000000-GrantDeletionIndexes';

/** Every migration, in order (explicit: the same list serves the compiled app, the CLI and the tests). */
export const MIGRATIONS = [
  InitialSchema1764201600000,
  AuditReportIndexes1764806400000,
  OpenIdConnectAndUsers1764920000000,
  UserPermissions1764940000001,
  DpopAndPar1764930000000,
  SealedAuthorizationRequests1764950000000,
  AuditRollups1764961800000,
  AuditEventIndexes1764963600000,
  GrantDeletionIndexes1765090000000,
];
