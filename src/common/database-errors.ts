/** True when an error means "the database cannot be reached" (as opposed to a bad query). */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: any = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (
      ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(
        code,
      )
    )
      return true;
    // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions, 53300 too many connections
    if (/^(57P0[123]|08...|53300)$/.test(code)) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (shutting down|starting up)|Query read timeout|Driver not Connected|Connection is not established/i.test(
        message,
      )
    )
      return true;
    e = e.driverError ?? e.cause;
  }
  return false;
}

/** True when a statement was cancelled by `statement_timeout` (SQLSTATE 57014, query_canceled). */
export function isStatementTimeout(err: unknown): boolean {
  let e: any = err;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e.code === '57014') return true;
    e = e.driverError ?? e.cause;
  }
  return false;
}
