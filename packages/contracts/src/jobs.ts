import { z } from 'zod';

/**
 * The job catalog: every BullMQ job the system runs, its queue, the schema of its payload and
 * its default options. The gateway validates before it enqueues and the processor validates
 * again when it takes a job. Payloads hold ids only: never image bytes, never secrets, since
 * Redis keeps job data in clear text.
 */
export const QueueName = {
  Images: 'images',
  Jobs: 'jobs',
  Maintenance: 'maintenance',
  Edits: 'edits',
  WebhookEvents: 'webhook-events',
  WebhookDeliveries: 'webhook-deliveries',
  Mail: 'mail',
  MailOutbox: 'mail-outbox',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  ImageProcess: 'ImageProcess',
  JobFinalize: 'JobFinalize',
  /** Scheduled (a BullMQ job scheduler): deletes uploads and results past the retention period. */
  RetentionSweep: 'RetentionSweep',
  /** The manual editor: a finished picture rendered again from its stored cutout, no AI call, no charge. */
  EditRender: 'EditRender',
  /** An event happened (a picture or job ended, credits ran low): one delivery per endpoint that wants it. */
  WebhookDispatch: 'WebhookDispatch',
  /** One event sent to one endpoint, signed; retried for days on timeouts, 5xx and connection errors. */
  WebhookDeliver: 'WebhookDeliver',
  /** One mail of the outbox (mail_outbox) sent over SMTP; retried with backoff. */
  MailSend: 'MailSend',
  /** Scheduled: queues the outbox's mails no one queued (written by billing, or whose enqueue failed). */
  MailOutboxSweep: 'MailOutboxSweep',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

/** What an X-Request-Id may be: a caller's own id is kept only when it has this shape. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** The id of the request that queued the work (X-Request-Id): the processor's log lines name it. */
const requestId = z.string().regex(REQUEST_ID_PATTERN).optional();

/** A W3C trace context (`traceparent`): the processor's spans of the job continue the trace of the request that queued it. */
export const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const traceparent = z.string().regex(TRACEPARENT_PATTERN).optional();

export const imageProcessPayload = z.strictObject({ jobId: z.uuid(), imageId: z.uuid(), requestId, traceparent });
export type ImageProcessPayload = z.infer<typeof imageProcessPayload>;

export const jobFinalizePayload = z.strictObject({ jobId: z.uuid(), requestId, traceparent });
export type JobFinalizePayload = z.infer<typeof jobFinalizePayload>;

/** A scheduler's job: it carries nothing, every processor upserts the same one. */
export const retentionSweepPayload = z.strictObject({});
export type RetentionSweepPayload = z.infer<typeof retentionSweepPayload>;

/**
 * Settings travel as the seller sent them; the processor validates them again against the job's
 * preset. A mask edit names the stored copy of the seller's mask: a key the gateway made from
 * ids, never a name from the client.
 */
export const editRenderPayload = z.strictObject({
  imageId: z.uuid(),
  userId: z.uuid(),
  settings: z.record(z.string(), z.unknown()),
  maskKey: z.string().regex(/^jobs\/[0-9a-f-]{36}\/masks\/[0-9a-f-]{36}-sent-[0-9a-f]{16}\.png$/).optional(),
  requestId,
});
export type EditRenderPayload = z.infer<typeof editRenderPayload>;

/** `endpoint.disabled` goes to the seller's other endpoints when one is turned off after failing for days. */
export const webhookEventTypes = ['job.completed', 'job.failed', 'picture.done', 'picture.failed', 'credits.low', 'endpoint.disabled'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/**
 * The event id is stable (made from what happened), so an event emitted twice is one event. Ids
 * only, like every payload: the event's content (the picture's name, the job's counts, the
 * balance) is read when it is dispatched.
 */
export const webhookDispatchPayload = z.strictObject({
  eventId: z.string().regex(/^evt_[A-Za-z0-9_-]{1,120}$/),
  type: z.enum(webhookEventTypes),
  userId: z.uuid(),
  /** The picture (picture.*), the job (job.*, credits.low) or the endpoint (endpoint.disabled) the event is about. */
  subjectId: z.uuid(),
  requestId,
});
export type WebhookDispatchPayload = z.infer<typeof webhookDispatchPayload>;
export const webhookDeliverPayload = z.strictObject({ deliveryId: z.uuid(), requestId });
export type WebhookDeliverPayload = z.infer<typeof webhookDeliverPayload>;

/** A mail's words (and any link it carries) stay in Postgres, in the outbox row: Redis sees its id. */
export const mailSendPayload = z.strictObject({ mailId: z.uuid(), requestId });
export type MailSendPayload = z.infer<typeof mailSendPayload>;
export const mailOutboxSweepPayload = z.strictObject({});

/** What each job answers: BullMQ keeps it as the job's return value (the gateway waits on an edit's). */
export interface JobResults {
  [JobName.ImageProcess]: { status: string };
  [JobName.JobFinalize]: { status: string };
  [JobName.RetentionSweep]: { jobs: number; cachedOutputs: number };
  [JobName.EditRender]: { resultKey: string; width: number; height: number; format: string };
  [JobName.WebhookDispatch]: { deliveries: number };
  [JobName.WebhookDeliver]: { status: number | null };
  [JobName.MailSend]: { sent: boolean };
  [JobName.MailOutboxSweep]: { queued: number };
}

/**
 * How a processor takes a queue: how many of its jobs at once, and how many times a job whose
 * process died (its lock lapsed) is taken over before it fails.
 */
export interface WorkerSettings {
  concurrency: number;
  maxStalledCount: number;
}

/** Finished jobs leave Redis after a bounded time so its memory stays bounded (reliability 22). */
const removeOnComplete = { age: 3600, count: 5000 };
const removeOnFail = { age: 7 * 24 * 3600, count: 5000 };

interface CatalogEntry {
  queue: QueueName;
  schema: z.ZodType;
  worker: WorkerSettings;
  options: object;
  /** How long a caller waits for the job's answer. */
  waitMs?: number;
  schedulerId?: string;
}

/**
 * Every job: its queue (one job name per queue), payload schema, enqueue options and worker
 * settings. Settings the operator may change (the images' concurrency and attempts) take these
 * as their defaults.
 */
export const jobCatalog = {
  [JobName.ImageProcess]: {
    queue: QueueName.Images,
    schema: imageProcessPayload,
    // WORKER_CONCURRENCY overrides the concurrency. After three stalls a picture fails and the
    // job's finalizer settles it.
    worker: { concurrency: 4, maxStalledCount: 3 },
    options: {
      attempts: 6,
      backoff: { type: 'exponential' as const, delay: 2000, jitter: 0.5 },
      removeOnComplete,
      removeOnFail,
      // A failed image must not block its job: the parent (JobFinalize) still runs and settles.
      ignoreDependencyOnFailure: true,
    },
  },
  [JobName.JobFinalize]: {
    queue: QueueName.Jobs,
    schema: jobFinalizePayload,
    worker: { concurrency: 4, maxStalledCount: 5 },
    options: {
      attempts: 10,
      backoff: { type: 'exponential' as const, delay: 1000, jitter: 0.5 },
      removeOnComplete,
      removeOnFail,
    },
  },
  [JobName.EditRender]: {
    queue: QueueName.Edits,
    schema: editRenderPayload,
    worker: { concurrency: 2, maxStalledCount: 1 },
    // A seller waits on the answer (a render from a stored cutout takes well under a second):
    // one try, the gateway gives up after waitMs, and the record goes soon.
    waitMs: 20_000,
    options: { attempts: 1, removeOnComplete: { age: 600, count: 1000 }, removeOnFail: { age: 3600, count: 1000 } },
  },
  [JobName.WebhookDispatch]: {
    queue: QueueName.WebhookEvents,
    schema: webhookDispatchPayload,
    worker: { concurrency: 4, maxStalledCount: 5 },
    options: { attempts: 10, backoff: { type: 'exponential' as const, delay: 1000, jitter: 0.5 }, removeOnComplete, removeOnFail },
  },
  [JobName.WebhookDeliver]: {
    queue: QueueName.WebhookDeliveries,
    schema: webhookDeliverPayload,
    // A slow receiver holds one of these, never a picture's worker.
    worker: { concurrency: 16, maxStalledCount: 5 },
    // 16 tries, the first retry after 8 s, doubling (jitter takes up to 30% off each wait): the
    // last 51 to 73 hours after the event (WEBHOOK_RETRY_BASE_MS changes the 8 s). 4xx answers
    // other than 408 and 429 end it.
    options: { attempts: 16, backoff: { type: 'exponential' as const, delay: 8000, jitter: 0.3 }, removeOnComplete, removeOnFail },
  },
  [JobName.MailSend]: {
    queue: QueueName.Mail,
    schema: mailSendPayload,
    worker: { concurrency: 4, maxStalledCount: 5 },
    // 10 tries from 5 s, doubling: about 1.4 hours of an SMTP server refusing before the mail is given up.
    options: { attempts: 10, backoff: { type: 'exponential' as const, delay: 5000, jitter: 0.3 }, removeOnComplete, removeOnFail },
  },
  [JobName.MailOutboxSweep]: {
    queue: QueueName.MailOutbox,
    schema: mailOutboxSweepPayload,
    worker: { concurrency: 1, maxStalledCount: 1 },
    schedulerId: 'mail-outbox',
    options: { removeOnComplete: 50, removeOnFail: 50 },
  },
  [JobName.RetentionSweep]: {
    queue: QueueName.Maintenance,
    schema: retentionSweepPayload,
    worker: { concurrency: 1, maxStalledCount: 1 },
    /** One BullMQ job scheduler for the whole fleet: every processor upserts this id. */
    schedulerId: 'retention',
    options: { removeOnComplete: 50, removeOnFail: 50 },
  },
} as const satisfies Record<JobName, CatalogEntry>;

export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]['schema']>;
export type JobResult<N extends JobName> = JobResults[N];

/** Custom BullMQ job ids may not contain ':'; these are stable so a retried enqueue is a no-op. */
export const bullJobId = {
  image: (imageId: string, attemptNonce: string) => `image-${imageId}-${attemptNonce}`,
  finalize: (jobId: string, attemptNonce: string) => `finalize-${jobId}-${attemptNonce}`,
  /** An event emitted twice (a retried handler) is enqueued once. */
  webhookEvent: (eventId: string) => `event-${eventId}`,
  webhookDelivery: (deliveryId: string, sending: string) => `deliver-${deliveryId}-${sending}`,
  /** The outbox row's id: the gateway's enqueue and the sweep's are one job. */
  mail: (mailId: string) => `mail-${mailId}`,
};
