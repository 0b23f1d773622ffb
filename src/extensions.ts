/** What an extension imports (docs/extending.md): the extension points and the report-rule helpers. */
export * from './extensions/extension-points';
export {
  groupedSql,
  eventsWhere,
  groupedFindingsSql,
  toFinding,
  subjectLabel,
  plural,
  threshold,
  IN_WINDOW,
  type Finding,
  type FindingSubject,
  type GroupRow,
  type RuleContext,
  type ReportWindow,
  type Severity,
} from './audit/rules/report-rule';
export { AppModule } from './app.module';
export { configureApp, createHttpAdapter } from './bootstrap';
