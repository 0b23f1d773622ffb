import { Module, type DynamicModule } from '@nestjs/common';
import { AppModule } from '../../../src/extensions';
import { EmployeeClaimsModule, type EmployeeDirectory } from './employee-claims';
import { InvalidScopeRequestsModule } from './invalid-scope-requests.rule';
import { SiemForwardingModule, type SiemOptions } from './siem-audit-sink';

export interface ExtendedLatchkeyOptions {
  directory: EmployeeDirectory;
  siem: SiemOptions;
}

/** The team's modules, each registered by importing it: what a team adds to Latchkey. */
export function teamExtensions(
  options: ExtendedLatchkeyOptions,
): Array<DynamicModule | typeof InvalidScopeRequestsModule> {
  return [
    InvalidScopeRequestsModule,
    EmployeeClaimsModule.forRoot(options.directory),
    SiemForwardingModule.forRoot(options.siem),
  ];
}

/** Latchkey (its AppModule, unchanged) plus the team's extensions: the root module the team starts. */
@Module({})
export class ExtendedLatchkeyModule {
  static forRoot(options: ExtendedLatchkeyOptions): DynamicModule {
    return { module: ExtendedLatchkeyModule, imports: [AppModule, ...teamExtensions(options)] };
  }
}
