import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import type { Queue } from 'bullmq';
import { requireOperator, type requireUser } from '../middleware/auth.middleware';

/** Bull Board for operators (granted with `npm run operator -- grant EMAIL`), nobody else. */
export function adminRoutes(deps: { queues: Queue[]; operators: Parameters<typeof requireOperator>[0]; authenticateWithCookie: ReturnType<typeof requireUser> }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({ queues: deps.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  const router = Router();
  router.use('/admin/queues', deps.authenticateWithCookie, requireOperator(deps.operators), serverAdapter.getRouter() as Router);
  return router;
}
