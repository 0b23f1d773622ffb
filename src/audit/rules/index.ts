import { challengeReuseRule } from './challenge-reuse.rule';
import { clientEnumerationRule } from './client-enumeration.rule';
import { clientSecretGuessingRule } from './client-secret-guessing.rule';
import { codeReplayRule } from './code-replay.rule';
import { dpopKeyMismatchRule } from './dpop-key-mismatch.rule';
import { dpopProofReplayRule } from './dpop-proof-replay.rule';
import { failureRateSpikeRule } from './failure-rate-spike.rule';
import { ipFailureBurstRule } from './ip-failure-burst.rule';
import { loginBruteforceRule } from './login-bruteforce.rule';
import { promptNoneProbingRule } from './prompt-none-probing.rule';
import { pkceDowngradeAttemptRule } from './pkce-downgrade-attempt.rule';
import { pkceVerifierMismatchRule } from './pkce-verifier-mismatch.rule';
import { redirectUriProbingRule } from './redirect-uri-probing.rule';
import { refreshTokenReuseRule } from './refresh-token-reuse.rule';
import type { ReportRule } from './report-rule';
import { userAdminChangesRule } from './user-admin-changes.rule';

/** Every rule of the security report, in the order the README lists them. */
export const REPORT_RULES: readonly ReportRule[] = [
  ipFailureBurstRule,
  pkceVerifierMismatchRule,
  codeReplayRule,
  refreshTokenReuseRule,
  redirectUriProbingRule,
  clientEnumerationRule,
  pkceDowngradeAttemptRule,
  loginBruteforceRule,
  clientSecretGuessingRule,
  challengeReuseRule,
  failureRateSpikeRule,
  promptNoneProbingRule,
  userAdminChangesRule,
  dpopProofReplayRule,
  dpopKeyMismatchRule,
];
