import { Router, type RequestHandler } from 'express';
import { accountDeletionRequest, emailChangeRequest, forgotPasswordRequest, mailedTokenRequest, parseInput, passwordResetRequest, preferencesRequest } from '@masterpost/contracts';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { RateLimits } from '../middleware/rate-limits';
import type { AccountDeletionService } from '../services/account-deletion.service';
import type { AccountExportService } from '../services/account-export.service';
import type { AccountLifecycleService } from '../services/account-lifecycle.service';

const emailIn = (body: unknown): string | undefined => {
  const value = (body as { email?: unknown; new_email?: unknown } | undefined) ?? {};
  const email = value.email ?? value.new_email;
  return typeof email === 'string' ? email : undefined;
};

/**
 * An account's life after sign-up (issue 22): verification, password reset, email change, mail
 * preferences, export and deletion. Every route that sends a mail is limited per client and per
 * address mailed, on top of the sign-in limit that /auth/password/* shares.
 */
export function accountRoutes(deps: {
  lifecycle: AccountLifecycleService;
  deletion: AccountDeletionService;
  exports: AccountExportService;
  authenticate: ReturnType<typeof requireUser>;
  limits: RateLimits;
}): Router {
  const router = Router();
  const { lifecycle, authenticate, limits } = deps;
  const mailing = (addressOf: Parameters<RateLimits['mailsToAddress']>[0]): RequestHandler[] => [limits.mailsFromClient, limits.mailsToAddress(addressOf)];
  const sellersAddress = (req: Parameters<RequestHandler>[0]) => currentUser(req).email;

  router.post('/auth/verify-email', limits.auth, async (req, res) => {
    res.json(await lifecycle.verifyEmail(parseInput(mailedTokenRequest, req.body).token));
  });

  router.post('/auth/verify-email/resend', authenticate, ...mailing(sellersAddress), async (req, res) => {
    res.status(202).json({ status: 'accepted', message: await lifecycle.resendVerification(currentUser(req).sub) });
  });

  router.post('/auth/password/forgot', ...mailing((req) => emailIn(req.body)), (req, res) => {
    const { email } = parseInput(forgotPasswordRequest, req.body);
    lifecycle.forgotPassword(email.trim().toLowerCase());
    res.status(202).json({ status: 'accepted', message: 'if an account has this address, a link to choose a new password is on its way; it works once, for an hour' });
  });

  router.post('/auth/password/reset', async (req, res) => {
    const { token, new_password } = parseInput(passwordResetRequest, req.body);
    res.json(await lifecycle.resetPassword(token, new_password));
  });

  router.post('/auth/email', authenticate, ...mailing((req) => emailIn(req.body)), async (req, res) => {
    const { new_email, password } = parseInput(emailChangeRequest, req.body);
    res.status(202).json({ status: 'accepted', message: await lifecycle.requestEmailChange(currentUser(req).sub, new_email.trim().toLowerCase(), password) });
  });

  router.post('/auth/email/confirm', limits.auth, async (req, res) => {
    res.json(await lifecycle.confirmEmail(parseInput(mailedTokenRequest, req.body).token));
  });

  router.post('/auth/preferences', authenticate, async (req, res) => {
    res.json(await lifecycle.setPreferences(currentUser(req).sub, parseInput(preferencesRequest, req.body).notify_pictures_ready));
  });

  router.get('/auth/account/export', authenticate, limits.exports, async (req, res) => {
    const zip = await deps.exports.export(currentUser(req).sub);
    res.writeHead(200, { 'content-type': 'application/zip', 'content-disposition': `attachment; filename="${zip.filename}"`, 'cache-control': 'no-store' });
    await zip.write(res);
  });

  router.delete('/auth/account', authenticate, limits.auth, async (req, res) => {
    const { password } = parseInput(accountDeletionRequest, req.body ?? {});
    res.json(await deps.deletion.delete(currentUser(req).sub, password));
  });

  return router;
}
