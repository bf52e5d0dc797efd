import { z } from 'zod';
import {
  apiKeyCreateRequest, apiKeyItem, apiKeyList, cancelAnswer, catalogAnswer, createdApiKey, createdWebhookEndpoint, rotatedSecret, rotateSecretRequest,
  webhookDelivery, webhookDeliveryList, webhookEndpoint, webhookEndpointCreateRequest, webhookEndpointList, checkoutAnswer, checkoutRequest, creditBalance, credentials, deleteAnswer, jobList, loginRequest, passwordChangeRequest,
  accountDeleted, accountDeletionRequest, emailChangeRequest, forgotPasswordRequest, mailAccepted, mailedTokenRequest, passwordResetRequest, preferencesRequest, editedPicture, editRenderRequest, errorBody,
  galleryAddRequest, galleryItem, galleryList, historyPage, me, packList, pictureRecord, processAnswer, processRequest, progress, session, uploadAnswer,
} from './api';

/**
 * Every public route of the gateway: its method and path, who may call it, what it takes and
 * what it answers. The OpenAPI document (openapi.ts) is made from this table and the gateway's
 * test checks that every route it serves is here, so a route cannot exist undocumented.
 */
/** `session`: a seller signed in (the bearer token from /auth/login), never an API key: a key cannot make, list or revoke keys, nor change the password. */
export type Access = 'public' | 'seller' | 'session' | 'operator';

export interface Answer {
  description: string;
  /** A JSON answer's schema; absent for bytes (then `contentType` says which). */
  schema?: z.ZodType;
  contentType?: string;
  /** Headers the answer carries, each with what it means. */
  headers?: Record<string, string>;
}

export interface PublicRoute {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI's form: `{jobId}`, not Express's `:jobId`. */
  path: string;
  operationId: string;
  summary: string;
  tag: 'account' | 'credits' | 'pictures' | 'editor' | 'gallery' | 'webhooks' | 'service';
  access: Access;
  body?: { contentType: 'application/json' | 'multipart/form-data'; schema: z.ZodType };
  query?: Record<string, { schema: z.ZodType; description: string }>;
  /** Accepts an Idempotency-Key (IETF draft): the same key and body answer the first answer again. */
  idempotent?: boolean;
  answers: Record<number, Answer>;
}

const json = (description: string, schema: z.ZodType): Answer => ({ description, schema });
const error = (description: string): Answer => ({ description, schema: errorBody });
const idParam = (name: string) => `{${name}}`;

const upload = z
  .object({ files: z.array(z.string().meta({ format: 'binary' })).describe('photos (JPEG, PNG, WebP, TIFF, GIF) and ZIPs of them, the field repeated') })
  .meta({ id: 'UploadRequest' });
const maskUpload = z
  .object({
    image_id: z.uuid(),
    mask: z.string().meta({ format: 'binary' }).describe('PNG, white = product, the shape of the picture'),
    settings: z.string().optional().describe('JSON settings, as in EditRenderRequest'),
  })
  .meta({ id: 'MaskRequest' });

const onePictureUpload = z
  .object({
    image: z.string().meta({ format: 'binary' }).describe('the photo (JPEG, PNG, WebP, TIFF, GIF); or send it as the whole body with its content type'),
    pipeline: z.string().describe('amazon, ebay, instagram, shopify or etsy'),
    settings: z.string().optional().describe('the job settings as JSON'),
    wait: z.string().optional().describe('seconds to wait (default 60)'),
  })
  .meta({ id: 'OnePictureRequest' });

const pictureHeaders = {
  'X-Picture-Id': 'the picture',
  'X-Credits-Charged': 'credits this picture cost (0 when it reused an output already paid for)',
  'X-Width': 'pixels',
  'X-Height': 'pixels',
  'X-Coverage': 'share of the canvas the product covers (0-1)',
  'X-Compliance': 'pass or fail: the marketplace\'s checks on the delivered bytes',
  'X-Shadow': 'the shadow drawn',
};

export const publicRoutes: PublicRoute[] = [
  { method: 'post', path: '/auth/register', operationId: 'register', summary: 'Create an account (with its free credits) and sign in', tag: 'account', access: 'public',
    body: { contentType: 'application/json', schema: credentials },
    answers: { 201: json('the account and its session', session), 400: error('the email or password is not acceptable'), 409: error('email_taken'), 429: error('too many attempts') } },
  { method: 'post', path: '/auth/login', operationId: 'login', summary: 'Sign in with a password, or once with an old Masterpost access code', tag: 'account', access: 'public',
    body: { contentType: 'application/json', schema: loginRequest },
    answers: { 200: json('the session (password_required after an access code)', session), 400: error('invalid input'), 401: error('wrong email, password or access code'), 429: error('too many attempts') } },
  { method: 'post', path: '/auth/password', operationId: 'changePassword', summary: 'Choose a new password (the current one unless the account has none yet); other sessions end', tag: 'account', access: 'session',
    body: { contentType: 'application/json', schema: passwordChangeRequest },
    answers: { 200: json('a new session', session), 400: error('the new password is not acceptable'), 401: error('the current password is wrong'), 429: error('too many attempts') } },
  { method: 'get', path: '/auth/me', operationId: 'me', summary: 'The signed-in seller and their credits', tag: 'account', access: 'seller',
    answers: { 200: json('the seller', me) } },
  { method: 'post', path: '/auth/verify-email', operationId: 'verifyEmail', summary: 'Follow the link of the verification mail: the address is proven, the signup credits granted (once)', tag: 'account', access: 'public',
    body: { contentType: 'application/json', schema: mailedTokenRequest },
    answers: { 200: json('the seller, verified', me), 400: error('invalid_token: unknown, used or expired link'), 429: error('too many attempts') } },
  { method: 'post', path: '/auth/verify-email/resend', operationId: 'resendVerification', summary: 'Mail the verification link again', tag: 'account', access: 'seller',
    answers: { 202: json('a mail is on its way (or the address is already verified)', mailAccepted), 429: error('too many mails asked for this address or from this client') } },
  { method: 'post', path: '/auth/password/forgot', operationId: 'forgotPassword', summary: 'Mail a password-reset link (the same answer whether or not the address has an account)', tag: 'account', access: 'public',
    body: { contentType: 'application/json', schema: forgotPasswordRequest },
    answers: { 202: json('accepted', mailAccepted), 400: error('invalid input'), 429: error('too many mails asked for this address or from this client') } },
  { method: 'post', path: '/auth/password/reset', operationId: 'resetPassword', summary: 'Set a new password from a reset link; every other session ends', tag: 'account', access: 'public',
    body: { contentType: 'application/json', schema: passwordResetRequest },
    answers: { 200: json('a new session', session), 400: error('invalid_token: unknown, used or expired link; or the password is not acceptable'), 429: error('too many attempts') } },
  { method: 'post', path: '/auth/email', operationId: 'changeEmail', summary: 'Ask for a new address: it takes effect once confirmed from its own mailbox, and the old one is told', tag: 'account', access: 'seller',
    body: { contentType: 'application/json', schema: emailChangeRequest },
    answers: { 202: json('a mail is on its way to the new address', mailAccepted), 400: error('invalid input'), 401: error('wrong password'), 409: error('email_taken'), 429: error('too many mails') } },
  { method: 'post', path: '/auth/email/confirm', operationId: 'confirmEmail', summary: 'Follow the link mailed to the new address: the change takes effect', tag: 'account', access: 'public',
    body: { contentType: 'application/json', schema: mailedTokenRequest },
    answers: { 200: json('the seller with the new address', me), 400: error('invalid_token'), 409: error('email_taken: the address was taken meanwhile'), 429: error('too many attempts') } },
  { method: 'post', path: '/auth/preferences', operationId: 'setPreferences', summary: 'Which mails the seller wants (\'your pictures are ready\')', tag: 'account', access: 'seller',
    body: { contentType: 'application/json', schema: preferencesRequest },
    answers: { 200: json('the seller', me), 400: error('invalid input') } },
  { method: 'get', path: '/auth/account/export', operationId: 'exportAccount', summary: 'Everything we hold on the seller: account, jobs, ledger (JSON) and their retained pictures, as a ZIP', tag: 'account', access: 'seller',
    answers: { 200: { description: 'a ZIP: account.json, jobs.json, ledger.json, pictures/<job>/...', contentType: 'application/zip' }, 429: error('too many exports') } },
  { method: 'delete', path: '/auth/account', operationId: 'deleteAccount', summary: 'Delete the account: pictures and files at once, keys and webhooks removed, the ledger kept anonymised', tag: 'account', access: 'seller',
    body: { contentType: 'application/json', schema: accountDeletionRequest },
    answers: { 200: json('deleted', accountDeleted), 400: error('the confirmation is missing'), 401: error('wrong password'), 409: error('jobs still running: cancel them first') } },
  { method: 'post', path: '/api/v1/keys', operationId: 'createKey', summary: 'Make an API key (shown this once); a signed-in session only, not a key', tag: 'account', access: 'session',
    body: { contentType: 'application/json', schema: apiKeyCreateRequest },
    answers: { 201: json('the key, with the key itself', createdApiKey), 400: error('no name, or too many keys'), 403: error('email_not_verified') } },
  { method: 'get', path: '/api/v1/keys', operationId: 'listKeys', summary: 'The seller\'s API keys: prefix, last use, revoked or not', tag: 'account', access: 'session',
    answers: { 200: json('the keys', apiKeyList) } },
  { method: 'delete', path: `/api/v1/keys/${idParam('keyId')}`, operationId: 'revokeKey', summary: 'Revoke an API key: refused at once everywhere', tag: 'account', access: 'session',
    answers: { 200: json('the key, revoked', apiKeyItem), 404: error('no such key') } },
  { method: 'post', path: '/api/v1/webhooks', operationId: 'createWebhook', summary: 'Register an endpoint for events (its signing secret shown once)', tag: 'webhooks', access: 'seller',
    body: { contentType: 'application/json', schema: webhookEndpointCreateRequest },
    answers: { 201: json('the endpoint and its secret', createdWebhookEndpoint), 400: error('invalid_input: the URL is refused (not http(s), credentials, an inner address) or an unknown event'), 403: error('email_not_verified') } },
  { method: 'get', path: '/api/v1/webhooks', operationId: 'listWebhooks', summary: 'The seller\'s endpoints', tag: 'webhooks', access: 'seller',
    answers: { 200: json('the endpoints', webhookEndpointList) } },
  { method: 'delete', path: `/api/v1/webhooks/${idParam('endpointId')}`, operationId: 'deleteWebhook', summary: 'Remove an endpoint', tag: 'webhooks', access: 'seller',
    answers: { 200: json('the endpoint removed', webhookEndpoint), 404: error('no such endpoint') } },
  { method: 'post', path: `/api/v1/webhooks/${idParam('endpointId')}/rotate-secret`, operationId: 'rotateWebhookSecret', summary: 'A new signing secret; the old one signs too until the overlap ends', tag: 'webhooks', access: 'seller',
    body: { contentType: 'application/json', schema: rotateSecretRequest },
    answers: { 200: json('the new secret', rotatedSecret), 404: error('no such endpoint') } },
  { method: 'post', path: `/api/v1/webhooks/${idParam('endpointId')}/enable`, operationId: 'enableWebhook', summary: 'Deliver again to an endpoint that was disabled', tag: 'webhooks', access: 'seller',
    answers: { 200: json('the endpoint', webhookEndpoint), 404: error('no such endpoint') } },
  { method: 'get', path: `/api/v1/webhooks/${idParam('endpointId')}/deliveries`, operationId: 'listDeliveries', summary: 'Recent deliveries with every attempt\'s status and latency', tag: 'webhooks', access: 'seller',
    answers: { 200: json('the deliveries, newest first', webhookDeliveryList), 404: error('no such endpoint') } },
  { method: 'post', path: `/api/v1/webhooks/${idParam('endpointId')}/deliveries/${idParam('deliveryId')}/redeliver`, operationId: 'redeliver', summary: 'Send a delivery again (the same event id)', tag: 'webhooks', access: 'seller',
    answers: { 202: json('queued again', webhookDelivery), 404: error('no such delivery'), 409: error('request_in_progress: still being tried') } },
  { method: 'get', path: '/credits/balance', operationId: 'balance', summary: 'Credits: balance, reserved, available (and owed)', tag: 'credits', access: 'seller',
    answers: { 200: json('the balance', creditBalance) } },
  { method: 'get', path: '/credits/history', operationId: 'history', summary: 'Every movement of the seller\'s credits, newest first', tag: 'credits', access: 'seller',
    query: { limit: { schema: z.int().min(1).max(200), description: 'at most this many (default 50)' }, cursor: { schema: z.string(), description: 'next_cursor of the previous page' } },
    answers: { 200: json('one page', historyPage), 400: error('invalid limit or cursor') } },
  { method: 'get', path: '/payments/packs', operationId: 'packs', summary: 'The credit packs on sale', tag: 'credits', access: 'public',
    answers: { 200: json('the packs', packList) } },
  { method: 'post', path: '/payments/checkout', operationId: 'checkout', summary: 'A Stripe Checkout page for a pack', tag: 'credits', access: 'seller',
    body: { contentType: 'application/json', schema: checkoutRequest },
    answers: { 201: json('where to pay', checkoutAnswer), 400: error('no such pack'), 503: error('payments_unavailable') } },
  { method: 'post', path: '/payments/webhook', operationId: 'stripeWebhook', summary: 'Stripe\'s events (signed); not for clients', tag: 'credits', access: 'public',
    answers: { 200: { description: 'the event was taken (or was taken before)' }, 400: error('invalid_signature') } },
  { method: 'get', path: '/api/v1/catalog', operationId: 'catalog', summary: 'Marketplaces, shadow types, formats, upload limits and the price', tag: 'service', access: 'public',
    answers: { 200: json('the catalog', catalogAnswer) } },
  { method: 'post', path: '/api/v1/upload', operationId: 'upload', summary: 'Upload photos and ZIPs: a job, each file verified, and an estimate', tag: 'pictures', access: 'seller', idempotent: true,
    body: { contentType: 'multipart/form-data', schema: upload },
    answers: { 201: json('the job, what was accepted and what was not (with why)', uploadAnswer), 400: error('no picture among the files'), 413: error('upload_too_large'), 429: error('rate_limited') } },
  { method: 'post', path: '/api/v1/pictures', operationId: 'createPicture', summary: 'One picture in one call: send a photo, get the marketplace picture', tag: 'pictures', access: 'seller', idempotent: true,
    body: { contentType: 'multipart/form-data', schema: onePictureUpload },
    query: {
      pipeline: { schema: z.string(), description: 'the marketplace (when the picture is the raw body; a form field otherwise)' },
      settings: { schema: z.string(), description: 'the job settings as JSON (the same)' },
      wait: { schema: z.int().min(0).max(300), description: 'seconds to wait for the picture (default 60); past them the answer is 202' },
    },
    answers: {
      200: { description: 'the picture (its bytes; its record with Accept: application/json)', contentType: 'image/*', schema: pictureRecord, headers: pictureHeaders },
      202: { description: 'still being made: poll Location', schema: pictureRecord, headers: { Location: 'where the picture will be', 'Retry-After': 'seconds before asking again', 'X-Picture-Id': 'the picture' } },
      400: error('no picture, a file that is not one, or invalid settings'),
      402: error('insufficient_credits or account_in_debt'),
      403: error('email_not_verified: follow the link of the verification mail first'),
      413: error('upload_too_large: the picture is larger than allowed (the connection is closed)'),
      422: error('picture_failed (reason says why; nothing was charged) or idempotency_key_reused'),
      429: error('rate_limited'),
    } },
  { method: 'get', path: `/api/v1/pictures/${idParam('pictureId')}`, operationId: 'getPicture', summary: 'A picture of the one-call route: its bytes once made, or 202 while being made', tag: 'pictures', access: 'seller',
    query: { wait: { schema: z.int().min(0).max(300), description: 'seconds to wait for it (default 0)' } },
    answers: {
      200: { description: 'the picture (its record with Accept: application/json)', contentType: 'image/*', schema: pictureRecord, headers: pictureHeaders },
      202: { description: 'still being made', schema: pictureRecord, headers: { Location: 'this URL', 'Retry-After': 'seconds before asking again' } },
      404: error('no such picture'),
      422: error('picture_failed'),
    } },
  { method: 'post', path: '/api/v1/process', operationId: 'process', summary: 'Reserve the credits and process a job for a marketplace', tag: 'pictures', access: 'seller', idempotent: true,
    body: { contentType: 'application/json', schema: processRequest },
    answers: { 202: json('queued', processAnswer), 429: error('rate_limited'), 400: error('invalid_input or invalid_settings'), 402: error('insufficient_credits or account_in_debt'), 403: error('email_not_verified: follow the link of the verification mail first'), 404: error('no such job'), 409: error('already_processing'), 422: error('idempotency_key_reused'), 503: error('service_unavailable') } },
  { method: 'get', path: `/api/v1/progress/${idParam('jobId')}`, operationId: 'progress', summary: 'A job\'s progress, each picture with its result and checks', tag: 'pictures', access: 'seller',
    answers: { 200: json('the progress', progress), 404: error('no such job') } },
  { method: 'get', path: `/api/v1/progress/${idParam('jobId')}/stream`, operationId: 'progressStream', summary: 'Server-sent events: `progress` on every change, then `done`', tag: 'pictures', access: 'seller',
    answers: { 200: { description: 'event stream; each `progress` event carries a Progress', contentType: 'text/event-stream' }, 404: error('no such job') } },
  { method: 'get', path: '/api/v1/jobs', operationId: 'listJobs', summary: 'The seller\'s past jobs, newest first: status, counts, credits', tag: 'pictures', access: 'seller',
    query: { limit: { schema: z.int().min(1).max(100), description: 'at most this many (default 20)' }, cursor: { schema: z.string(), description: 'next_cursor of the previous page' } },
    answers: { 200: json('one page', jobList), 400: error('invalid limit or cursor') } },
  { method: 'post', path: `/api/v1/jobs/${idParam('jobId')}/cancel`, operationId: 'cancelJob', summary: 'Cancel what has not started; its credits go back', tag: 'pictures', access: 'seller',
    answers: { 200: json('cancelled', cancelAnswer), 404: error('no such job'), 409: error('already_finished') } },
  { method: 'delete', path: `/api/v1/jobs/${idParam('jobId')}`, operationId: 'deleteJob', summary: 'Delete a job and every file of it', tag: 'pictures', access: 'seller',
    answers: { 200: json('deleted', deleteAnswer), 404: error('no such job') } },
  { method: 'get', path: `/api/v1/download/${idParam('jobId')}`, operationId: 'download', summary: 'The finished pictures as a ZIP, with manifest.json', tag: 'pictures', access: 'seller',
    answers: { 200: { description: 'the ZIP (manifest.json follows the Manifest schema)', contentType: 'application/zip' }, 404: error('no such job'), 409: error('not_finished'), 410: error('files_deleted') } },
  { method: 'get', path: `/api/v1/images/${idParam('imageId')}/${idParam('kind')}`, operationId: 'pictureFile', summary: 'One picture\'s file: result, original, cutout or mask', tag: 'pictures', access: 'seller',
    answers: { 200: { description: 'the picture', contentType: 'image/*' }, 404: error('no such picture'), 409: error('not_finished: the picture is not delivered yet') } },
  { method: 'post', path: '/api/v1/manual-editor/render', operationId: 'editRender', summary: 'Render a finished picture again with other settings (no credits)', tag: 'editor', access: 'seller',
    body: { contentType: 'application/json', schema: editRenderRequest },
    answers: { 200: json('the new picture', editedPicture), 429: error('rate_limited'), 400: error('invalid_settings'), 404: error('no such picture'), 503: error('could not render now') } },
  { method: 'post', path: '/api/v1/manual-editor/mask', operationId: 'editMask', summary: 'Cut a finished picture out again along a painted mask (no credits)', tag: 'editor', access: 'seller',
    body: { contentType: 'multipart/form-data', schema: maskUpload },
    answers: { 200: json('the new picture and mask', editedPicture), 429: error('rate_limited'), 400: error('invalid_mask'), 404: error('no such picture') } },
  { method: 'get', path: '/api/v1/gallery/all', operationId: 'gallery', summary: 'Before/after examples', tag: 'gallery', access: 'public',
    answers: { 200: json('the gallery', galleryList) } },
  { method: 'get', path: `/api/v1/gallery/${idParam('id')}/${idParam('kind')}`, operationId: 'galleryPicture', summary: 'A gallery picture: original or processed', tag: 'gallery', access: 'public',
    answers: { 200: { description: 'the picture', contentType: 'image/*' }, 404: error('no such gallery picture') } },
  { method: 'post', path: '/api/v1/gallery', operationId: 'addToGallery', summary: 'Publish one of your finished pictures (operators)', tag: 'gallery', access: 'operator',
    body: { contentType: 'application/json', schema: galleryAddRequest },
    answers: { 201: json('the gallery item', galleryItem), 400: error('invalid_input: no title, or not a finished picture'), 403: error('not an operator'), 404: error('no such picture') } },
  { method: 'get', path: '/health', operationId: 'health', summary: 'The process runs', tag: 'service', access: 'public', answers: { 200: { description: '{status, pid}', contentType: 'application/json' } } },
  { method: 'get', path: '/ready', operationId: 'ready', summary: 'Each dependency named with its state', tag: 'service', access: 'public',
    answers: { 200: { description: 'ready', contentType: 'application/json' }, 503: { description: 'a dependency is down', contentType: 'application/json' } } },
  { method: 'get', path: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics', tag: 'service', access: 'public', answers: { 200: { description: 'Prometheus text', contentType: 'text/plain' } } },
  { method: 'get', path: '/openapi.json', operationId: 'openapi', summary: 'This document', tag: 'service', access: 'public', answers: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } } },
  { method: 'get', path: '/docs', operationId: 'docs', summary: 'This document, to read', tag: 'service', access: 'public', answers: { 200: { description: 'HTML', contentType: 'text/html' } } },
];
