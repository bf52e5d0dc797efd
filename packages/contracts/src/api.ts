import { z } from 'zod';
import { ErrorCode } from './errors';
import { webhookEventTypes } from './jobs';
import { jobSettingsSchema, outputFormats, shadowTypes } from './presets';
import { complianceReport, imageStatus, jobStatus, pipelineId } from './records';

/**
 * The public answers and requests of the gateway (docs/api.md), as schemas: the services type
 * their answers with them, the OpenAPI document is generated from them, and the tests check
 * every answer against them. Each carries its OpenAPI name in `meta({ id })`.
 */

export const errorCode = z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]);

export const errorBody = z
  .object({
    error: z.looseObject({
      code: errorCode,
      message: z.string(),
      /** The request field the error is about, when there is one. */
      field: z.string().optional(),
    }),
  })
  .meta({ id: 'Error', description: 'Every error: a code to act on, a message to show, and details such as the field' });

export const creditBalance = z
  .strictObject({
    balance: z.int(),
    reserved: z.int(),
    available: z.int(),
    /** Present only when a refund or dispute took back more than was left. */
    owed: z.int().optional(),
  })
  .meta({ id: 'CreditBalance' });

export const credentials = z
  .strictObject({ email: z.email().max(254), password: z.string().min(8, 'must be at least 8 characters').max(200) })
  .meta({ id: 'Credentials' });

/**
 * A seller moved from the old Masterpost signs in once with the access code they had
 * (docs/original-system.md), then chooses a password; after that the code no longer works.
 */
export const accessCodeCredentials = z
  .strictObject({ email: z.email().max(254), access_code: z.string().min(1).max(200) })
  .meta({ id: 'AccessCodeCredentials' });
export const loginRequest = z.union([credentials, accessCodeCredentials]).meta({ id: 'LoginRequest' });

export const session = z
  .strictObject({
    user: z.strictObject({ id: z.uuid(), email: z.string() }),
    access_token: z.string(),
    token_type: z.literal('bearer'),
    credits: creditBalance,
    /** True when the seller signed in with an old access code and must choose a password (POST /auth/password). */
    password_required: z.boolean().optional(),
  })
  .meta({ id: 'Session' });

/** A new password: the current one is asked for unless the account has none yet (a moved seller). */
export const passwordChangeRequest = z
  .strictObject({
    current_password: z.string().max(200).optional(),
    new_password: z.string().min(8, 'must be at least 8 characters').max(200),
  })
  .meta({ id: 'PasswordChangeRequest' });

export type Session = z.infer<typeof session>;

export const me = z
  .strictObject({
    id: z.uuid(),
    email: z.string(),
    credits: creditBalance,
    /** Whether the address is proven (the link in the verification mail followed). */
    email_verified: z.boolean(),
    /** A new address asked for and not yet confirmed from its own mailbox. */
    pending_email: z.string().nullable(),
    /** Mail me when a job's pictures are ready (off unless the seller turns it on). */
    notify_pictures_ready: z.boolean(),
    /** False for a moved seller who has only signed in with an old access code so far. */
    has_password: z.boolean(),
  })
  .meta({ id: 'Me' });

/** The token of a link we mailed (verification, email change, password reset): single use, expiring, stored hashed. */
const mailedToken = z.string().regex(/^[A-Za-z0-9_-]{20,200}$/, 'is not a token from one of our mails');
export const mailedTokenRequest = z.strictObject({ token: mailedToken }).meta({ id: 'MailedTokenRequest' });
export const forgotPasswordRequest = z.strictObject({ email: z.email().max(254) }).meta({ id: 'ForgotPasswordRequest' });
export const passwordResetRequest = z
  .strictObject({ token: mailedToken, new_password: z.string().min(8, 'must be at least 8 characters').max(200) })
  .meta({ id: 'PasswordResetRequest' });
export const emailChangeRequest = z
  .strictObject({ new_email: z.email().max(254), password: z.string().max(200) })
  .meta({ id: 'EmailChangeRequest' });
export const preferencesRequest = z.strictObject({ notify_pictures_ready: z.boolean() }).meta({ id: 'PreferencesRequest' });
/** Said whether or not a mail went (a reset for an unknown address answers the same). */
export const mailAccepted = z.strictObject({ status: z.literal('accepted'), message: z.string() }).meta({ id: 'MailAccepted' });
export const accountDeletionRequest = z
  .strictObject({
    /** The seller's password, when the account has one. */
    password: z.string().max(200).optional(),
    confirm: z.literal('delete my account', { error: 'must be the words "delete my account"' }),
  })
  .meta({ id: 'AccountDeletionRequest' });
export const accountDeleted = z
  .strictObject({
    deleted: z.literal(true),
    /** Credits left on the account, given up with it (the web page shows them before asking to confirm). */
    forfeited_credits: z.int(),
    jobs_deleted: z.int(),
  })
  .meta({ id: 'AccountDeleted' });
export type Me = z.infer<typeof me>;

export const acceptedPicture = z.strictObject({
  image_id: z.uuid(),
  filename: z.string(),
  width: z.int(),
  height: z.int(),
  bytes: z.int(),
});

export type AcceptedPicture = z.infer<typeof acceptedPicture>;

export const rejectedFile = z.strictObject({ filename: z.string(), code: z.string(), message: z.string() });
export type RejectedFile = z.infer<typeof rejectedFile>;

export const uploadAnswer = z
  .strictObject({
    job_id: z.uuid(),
    files_count: z.int(),
    files: z.array(acceptedPicture),
    rejected: z.array(rejectedFile),
    estimate: z.strictObject({
      credits_needed: z.int(),
      credits_available: z.int(),
      max_affordable_images: z.int(),
      seconds: z.int(),
    }),
  })
  .meta({ id: 'UploadAnswer' });
export type UploadAnswer = z.infer<typeof uploadAnswer>;

export const processRequest = z
  .strictObject({ job_id: z.uuid(), pipeline: pipelineId, settings: jobSettingsSchema.optional() })
  .meta({ id: 'ProcessRequest' });

export const processAnswer = z
  .strictObject({ job_id: z.uuid(), status: z.literal('queued'), images: z.int(), credits_reserved: z.int() })
  .meta({ id: 'ProcessAnswer' });

const pictureError = z.strictObject({ code: z.string(), message: z.string() });

export const progressPicture = z.strictObject({
  image_id: z.uuid(),
  filename: z.string(),
  status: imageStatus,
  error: pictureError.optional(),
  result_url: z.string().optional(),
  output_name: z.string().optional(),
  shadow: z.string().optional(),
  compliance: complianceReport.nullable().optional(),
  /** Whether the ledger charged it: false when it reused an AI output this seller had already paid for. */
  charged: z.boolean().optional(),
});

export const progress = z
  .strictObject({
    job_id: z.uuid(),
    status: jobStatus,
    /** True once the job has ended and every credit of it is settled: nothing will change any more. */
    finished: z.boolean(),
    pipeline: pipelineId.nullable(),
    total: z.int(),
    completed: z.int(),
    failed: z.int(),
    cancelled: z.int(),
    percentage: z.int(),
    eta_seconds: z.int(),
    credits_reserved: z.int(),
    credits_charged: z.int(),
    images: z.array(progressPicture),
  })
  .meta({ id: 'Progress' });
export type Progress = z.infer<typeof progress>;

/** A seller's past jobs (GET /api/v1/jobs), newest first, for the history screen and `masterpost jobs`. */
export const jobSummary = z
  .strictObject({
    job_id: z.uuid(),
    status: jobStatus,
    pipeline: pipelineId.nullable(),
    created_at: z.string(),
    finished_at: z.string().nullable(),
    total: z.int(),
    completed: z.int(),
    failed: z.int(),
    cancelled: z.int(),
    credits_charged: z.int(),
    /** The retention sweep deleted the job's files: its results cannot be reopened. */
    files_deleted: z.boolean(),
  })
  .meta({ id: 'JobSummary' });
export type JobSummary = z.infer<typeof jobSummary>;
export const jobList = z.strictObject({ jobs: z.array(jobSummary), next_cursor: z.string().nullable() }).meta({ id: 'JobList' });
export type JobList = z.infer<typeof jobList>;
export const jobListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The `next_cursor` of the page before. */
  cursor: z.string().max(200).optional(),
});

export const cancelAnswer = z.strictObject({ job_id: z.uuid(), status: z.literal('cancelled'), released_credits: z.int() }).meta({ id: 'CancelAnswer' });
export const deleteAnswer = z.strictObject({ job_id: z.uuid(), deleted: z.literal(true), released_credits: z.int() }).meta({ id: 'DeleteAnswer' });

/** manifest.json in a job's ZIP: every picture, delivered or not, with why not. */
export const manifest = z
  .strictObject({
    job_id: z.uuid(),
    pipeline: pipelineId.nullable(),
    images: z.array(
      z.strictObject({
        image_id: z.uuid(),
        source_name: z.string(),
        output_name: z.string().nullable(),
        status: imageStatus,
        error: z.strictObject({ code: z.string(), message: z.string().nullable() }).nullable(),
        width: z.int().nullable(),
        height: z.int().nullable(),
        shadow: z.string().nullable(),
        compliance: complianceReport.nullable(),
        credits_charged: z.int(),
      }),
    ),
  })
  .meta({ id: 'Manifest' });
export type Manifest = z.infer<typeof manifest>;

export const editRenderRequest = z.strictObject({ image_id: z.uuid(), settings: z.record(z.string(), z.unknown()).default({}) }).meta({ id: 'EditRenderRequest' });
export const editedPicture = z
  .strictObject({ image_id: z.uuid(), result_url: z.string(), mask_url: z.string().optional() })
  .meta({ id: 'EditedPicture' });
export type EditedPicture = z.infer<typeof editedPicture>;

export const galleryItem = z
  .strictObject({ id: z.uuid(), title: z.string(), description: z.string(), pipeline: z.string(), original_url: z.string(), processed_url: z.string() })
  .meta({ id: 'GalleryItem' });
export type GalleryItem = z.infer<typeof galleryItem>;
export const galleryList = z.strictObject({ items: z.array(galleryItem), total: z.int() }).meta({ id: 'GalleryList' });
export type GalleryList = z.infer<typeof galleryList>;
/** An operator publishes one of their own finished pictures. */
export const galleryAddRequest = z
  .strictObject({ image_id: z.uuid(), title: z.string().trim().min(1).max(120), description: z.string().trim().max(500).default('') })
  .meta({ id: 'GalleryAddRequest' });

export const historyItem = z.strictObject({
  id: z.string(),
  delta: z.int(),
  /** Change of what the seller owes (a reversal beyond the balance, or a purchase paying it). */
  owed_delta: z.int().optional(),
  kind: z.string(),
  reference: z.string(),
  description: z.string(),
  created_at: z.string(),
});
export type HistoryItem = z.infer<typeof historyItem>;
export const historyPage = z.strictObject({ items: z.array(historyItem), next_cursor: z.string().nullable() }).meta({ id: 'HistoryPage' });
export type HistoryPage = z.infer<typeof historyPage>;
export const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d+$/).optional(),
});

export const pack = z.strictObject({ id: z.string(), name: z.string(), credits: z.int(), price_cents: z.int(), currency: z.string() }).meta({ id: 'Pack' });
export type Pack = z.infer<typeof pack>;
export const packList = z.array(pack).meta({ id: 'PackList' });
export const checkoutRequest = z.strictObject({ pack: z.string() }).meta({ id: 'CheckoutRequest' });
/**
 * One picture in one call (POST /api/v1/pictures): its record, answered as JSON when the client
 * asks for it, while the picture is still being made (202), and by GET /api/v1/pictures/{id}.
 */
export const pictureRecord = z
  .strictObject({
    picture_id: z.uuid(),
    job_id: z.uuid(),
    status: imageStatus,
    pipeline: pipelineId.nullable(),
    /** Where the picture's bytes are (once done), and where to ask again. */
    result_url: z.string().nullable(),
    location: z.string(),
    width: z.int().nullable(),
    height: z.int().nullable(),
    shadow: z.string().nullable(),
    compliance: complianceReport.nullable(),
    credits_charged: z.int(),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ id: 'Picture' });
export type PictureRecord = z.infer<typeof pictureRecord>;

/** A key for code: sent as `X-API-Key: mp_...` or `Authorization: Bearer mp_...`. */
export const apiKeyCreateRequest = z.strictObject({ name: z.string().trim().min(1).max(100) }).meta({ id: 'ApiKeyCreateRequest' });
export const apiKeyItem = z
  .strictObject({
    id: z.uuid(),
    name: z.string(),
    /** The key's first characters, to tell keys apart; the key itself is never shown again. */
    prefix: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyItem = z.infer<typeof apiKeyItem>;
export const createdApiKey = z
  .strictObject({ ...apiKeyItem.shape, key: z.string().describe('the key, shown this once') })
  .meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof createdApiKey>;
export const apiKeyList = z.strictObject({ keys: z.array(apiKeyItem) }).meta({ id: 'ApiKeyList' });
export type ApiKeyList = z.infer<typeof apiKeyList>;

/** Completion webhooks: an endpoint, its events, and its signing secret (shown when made or rotated). */
export const webhookEventType = z.enum(webhookEventTypes);
export const webhookEndpointCreateRequest = z
  .strictObject({
    url: z.string().max(2048),
    events: z.array(webhookEventType).min(1),
    description: z.string().max(200).default(''),
  })
  .meta({ id: 'WebhookEndpointCreateRequest' });
export const webhookEndpoint = z
  .strictObject({
    id: z.uuid(),
    url: z.string(),
    events: z.array(webhookEventType),
    description: z.string(),
    created_at: z.string(),
    /** Until then the previous secret signs too (each delivery carries both signatures). */
    previous_secret_valid_until: z.string().nullable(),
    failing_since: z.string().nullable(),
    disabled_at: z.string().nullable(),
    disabled_reason: z.string().nullable(),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpoint = z.infer<typeof webhookEndpoint>;
export const createdWebhookEndpoint = z
  .strictObject({ ...webhookEndpoint.shape, secret: z.string().describe('the signing secret (whsec_...), shown this once') })
  .meta({ id: 'CreatedWebhookEndpoint' });
export const webhookEndpointList = z.strictObject({ endpoints: z.array(webhookEndpoint) }).meta({ id: 'WebhookEndpointList' });
export const rotateSecretRequest = z
  .strictObject({ overlap_seconds: z.int().min(0).max(7 * 24 * 3600).default(24 * 3600) })
  .meta({ id: 'RotateSecretRequest' });
export const rotatedSecret = z
  .strictObject({ secret: z.string(), previous_secret_valid_until: z.string().nullable() })
  .meta({ id: 'RotatedSecret' });
export const webhookDelivery = z
  .strictObject({
    id: z.uuid(),
    event_id: z.string(),
    event_type: webhookEventType,
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.array(z.strictObject({ attempt: z.int(), status: z.int().nullable(), error: z.string().nullable(), latency_ms: z.int(), at: z.string() })),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof webhookDelivery>;
export const webhookDeliveryList = z.strictObject({ deliveries: z.array(webhookDelivery) }).meta({ id: 'WebhookDeliveryList' });

/**
 * What a client needs to offer the choices the service has (GET /api/v1/catalog): the
 * marketplaces and their defaults, the shadow types, the output formats and the price, read from
 * the same contracts the services run on, so no page or client hard-codes them.
 */
export const catalogAnswer = z
  .strictObject({
    credits_per_picture: z.int(),
    pipelines: z.array(
      z.strictObject({
        id: pipelineId,
        canvas: z.strictObject({ width: z.int(), height: z.int() }),
        format: z.enum(outputFormats),
        coverage: z.number(),
        shadow: z.enum(shadowTypes),
      }),
    ),
    shadow_types: z.array(z.enum(shadowTypes)),
    output_formats: z.array(z.enum(outputFormats)),
    upload: z.strictObject({ max_files: z.int(), max_file_bytes: z.int(), accepted: z.array(z.string()) }),
  })
  .meta({ id: 'Catalog' });
export type CatalogAnswer = z.infer<typeof catalogAnswer>;

export const checkoutAnswer = z.strictObject({ url: z.string(), session_id: z.string() }).meta({ id: 'CheckoutAnswer' });
