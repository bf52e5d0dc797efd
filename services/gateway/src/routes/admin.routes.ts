import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import type { Queue } from 'bullmq';
import { requireAdmin, type requireUser } from '../middleware/auth.middleware';

/** Bull Board for operators: signed-in accounts listed in ADMIN_EMAILS, nobody else. */
export function adminRoutes(deps: { queues: Queue[]; adminEmails: string[]; authenticateWithCookie: ReturnType<typeof requireUser> }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({ queues: deps.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  const router = Router();
  router.use('/admin/queues', deps.authenticateWithCookie, requireAdmin(deps.adminEmails), serverAdapter.getRouter() as Router);
  return router;
}
