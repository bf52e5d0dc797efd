-- Accounts a seller can keep (issue 22): a proven address, password resets, email changes,
-- leaving with one's data deleted, and the mails that carry the links.
--
-- * `email_verified_at`: accounts made before verification existed, and sellers moved from the
--   old Masterpost (whose address the old app mailed their access code to), count as verified.
-- * `account_tokens`: the links we mail. Only a SHA-256 of each token is kept (the token is 32
--   random bytes: a slow hash adds nothing); single use (`used_at`), expiring.
-- * `mail_outbox`: every mail, written in Postgres by whichever service has something to say,
--   sent by the processor's mail worker (BullMQ, retried). The words, which may hold a link, are
--   cleared once the mail is sent.
-- * `deleted_at`: a deleted account keeps its row (the ledger's movements point at it) with the
--   email replaced by a tombstone, so the address can sign up again and no row names it.

alter table users add column email_verified_at timestamptz;
alter table users add column notify_pictures_ready boolean not null default false;
alter table users add column deleted_at timestamptz;
update users set email_verified_at = created_at;

create table account_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  purpose text not null check (purpose in ('verify_email', 'reset_password', 'change_email')),
  token_sha256 text not null unique,
  -- The address a change_email link moves the account to.
  new_email text,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index account_tokens_user on account_tokens (user_id, purpose);

create table mail_outbox (
  id uuid primary key,
  user_id uuid references users (id) on delete set null,
  to_address text,
  kind text not null,
  subject text,
  text_body text,
  html_body text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  -- 'sent', or 'not_configured' when no SMTP server is set (the mail is logged, not sent).
  outcome text,
  -- A notice written again by a retried job is one mail: 'ready:<hold>', 'low:<user>:<period>'.
  dedupe_key text unique,
  -- A notice written where no template runs (SQL, billing over Supabase): its facts, made into
  -- words and addressed to the seller's current email when it is sent.
  data jsonb,
  -- The outbox sweep took it then (for 10 minutes): it is queued, and retried by BullMQ.
  next_sweep_at timestamptz,
  constraint mail_has_words_or_facts check (sent_at is not null or subject is not null or data is not null)
);
create index mail_outbox_unsent on mail_outbox (created_at) where sent_at is null;

alter table account_tokens enable row level security;
alter table mail_outbox enable row level security;

-- Addresses an account had before an email change: deleting the account forgets them too.
create table account_past_emails (
  user_id uuid not null references users (id) on delete cascade,
  email text not null,
  changed_at timestamptz not null default now(),
  primary key (user_id, email)
);
alter table account_past_emails enable row level security;

create function email_fingerprint(p_email text) returns text language sql immutable as $$
  select 'sha256:' || encode(sha256(convert_to(lower(btrim(p_email)), 'UTF8')), 'hex');
$$;

create function email_pattern(p_email text) returns text language sql immutable as $$
  select regexp_replace(lower(btrim(p_email)), '([.+*?^$()\[\]{}|\\-])', '\\\1', 'g');
$$;

-- The ledger stays append-only for money. The one change allowed is taking an email address out
-- of a movement's words (account deletion: ledger_forget_email): the address being forgotten is
-- named in a transaction-local setting, and the row may change only by that address becoming
-- its fingerprint, with every amount, kind, date and link left as it was. Whoever sets the
-- setting can do nothing else with it.
create or replace function credit_movements_append_only() returns trigger language plpgsql as $$
declare
  v_email text := current_setting('masterpost.forgetting_email', true);
begin
  if tg_op = 'UPDATE' and coalesce(v_email, '') like '%_@_%'
     and new.id = old.id and new.user_id = old.user_id and new.kind = old.kind and new.delta = old.delta
     and new.reserved_delta = old.reserved_delta and new.debt_delta = old.debt_delta
     and new.hold_reference is not distinct from old.hold_reference and new.created_at = old.created_at
     and new.reference = regexp_replace(old.reference, email_pattern(v_email), email_fingerprint(v_email), 'gi')
     and new.description = regexp_replace(old.description, email_pattern(v_email), email_fingerprint(v_email), 'gi') then
    return new;
  end if;
  raise exception 'credit_movements is append-only';
end $$;

-- Replaces an address the account has or had (any case) by its fingerprint in the seller's
-- references and descriptions; the fingerprint still tells movements of one address apart.
create function ledger_forget_email(p_user uuid, p_email text) returns integer language plpgsql as $$
declare
  v_pattern text := email_pattern(p_email);
  v_count integer;
begin
  if not exists (select 1 from users u where u.id = p_user and lower(u.email) = lower(btrim(p_email)))
     and not exists (select 1 from account_past_emails e where e.user_id = p_user and lower(e.email) = lower(btrim(p_email))) then
    raise exception 'ledger_forget_email: % is not an address of this account', p_email;
  end if;
  perform set_config('masterpost.forgetting_email', lower(btrim(p_email)), true);
  update credit_movements m
    set reference = regexp_replace(m.reference, v_pattern, email_fingerprint(p_email), 'gi'),
        description = regexp_replace(m.description, v_pattern, email_fingerprint(p_email), 'gi')
    where m.user_id = p_user and (m.reference ~* v_pattern or m.description ~* v_pattern);
  get diagnostics v_count = row_count;
  perform set_config('masterpost.forgetting_email', '', true);
  return v_count;
end $$;

-- A payment whose amount is not known (granted by add_credits, outside Checkout) is taken back
-- whole by any refund; otherwise as 008 did, in proportion to what was refunded.
create or replace function stripe_reconcile(p_payment_key text) returns void
language plpgsql as $$
declare
  v_payment stripe_payments%rowtype;
  v_target bigint;
  v_delta bigint;
  v_reference text;
begin
  select * into v_payment from stripe_payments p where p.payment_key = p_payment_key for update;
  if not found or not v_payment.granted then return; end if;
  if v_payment.dispute_status is not null and v_payment.dispute_status not in ('won', 'warning_closed', 'prevented') then
    v_target := v_payment.credits;
  elsif coalesce(v_payment.amount_cents, 0) > 0 then
    v_target := least(v_payment.credits, (v_payment.credits * v_payment.refunded_cents) / v_payment.amount_cents);
  elsif v_payment.refunded_cents > 0 then
    v_target := v_payment.credits;
  else
    v_target := 0;
  end if;
  v_delta := v_target - v_payment.revoked_credits;
  if v_delta = 0 then return; end if;
  v_reference := format('stripe:%s:adjustment:%s', p_payment_key, v_payment.adjustments + 1);
  if v_delta > 0 then
    perform ledger_revoke(v_payment.user_id, v_delta, v_reference,
      format('Taken back: payment refunded or disputed (%s of %s credits)', v_target, v_payment.credits));
  else
    perform ledger_grant(v_payment.user_id, -v_delta, 'reinstatement', v_reference, 'Given back: dispute closed in your favour or prevented');
  end if;
  update stripe_payments p set revoked_credits = v_target, adjustments = p.adjustments + 1, updated_at = now()
    where p.payment_key = p_payment_key;
end $$;

-- A refund or dispute of a payment the old app took: its credits came across in the opening
-- balance, not as a payment of ours, so nothing here knows how many to take back. Recorded as
-- 'legacy' for an operator (billing logs an ALERT), never silently dropped.
create function stripe_legacy_event(p_event_id text, p_type text, p_payment_key text) returns boolean
language plpgsql as $$
begin
  if not exists (select 1 from legacy_stripe_ids l where l.id in (p_payment_key, regexp_replace(p_payment_key, '^(session|charge):', ''))) then
    return false;
  end if;
  insert into stripe_events (id, type, payment_key, outcome) values (p_event_id, p_type, p_payment_key, 'legacy') on conflict (id) do nothing;
  return true;
end $$;

create or replace function stripe_apply_refund(p_event_id text, p_type text, p_payment_key text, p_amount_refunded bigint)
returns text
language plpgsql as $$
begin
  if stripe_legacy_event(p_event_id, p_type, p_payment_key) then return 'legacy'; end if;
  if not stripe_claim_event(p_event_id, p_type, p_payment_key) then return 'duplicate'; end if;
  update stripe_payments p set refunded_cents = greatest(p.refunded_cents, p_amount_refunded), updated_at = now()
    where p.payment_key = p_payment_key;
  perform stripe_reconcile(p_payment_key);
  return 'recorded';
end $$;

create or replace function stripe_apply_dispute(p_event_id text, p_type text, p_payment_key text, p_status text)
returns text
language plpgsql as $$
begin
  if stripe_legacy_event(p_event_id, p_type, p_payment_key) then return 'legacy'; end if;
  if not stripe_claim_event(p_event_id, p_type, p_payment_key) then return 'duplicate'; end if;
  update stripe_payments p set
      dispute_status = case when p.dispute_status in ('won', 'lost', 'warning_closed', 'prevented') then p.dispute_status else p_status end,
      updated_at = now()
    where p.payment_key = p_payment_key;
  perform stripe_reconcile(p_payment_key);
  return 'recorded';
end $$;

-- The signup grant's reference names the address's fingerprint, not the address: one trial per
-- address ever (a deleted and re-made account gets none), and no row of the ledger names it.
do $$
begin
  perform set_config('masterpost.forgetting_email', 'on', true);
  update credit_movements set reference = 'signup:' || email_fingerprint(substr(reference, 8))
    where kind = 'signup' and reference like 'signup:%' and reference not like 'signup:sha256:%';
  perform set_config('masterpost.forgetting_email', 'off', true);
end $$;

-- A notice to a seller from billing (a purchase's receipt), through either of its transports.
create function outbox_notice(p_user uuid, p_kind text, p_data jsonb, p_dedupe_key text) returns boolean
language plpgsql as $$
declare
  v_count integer;
begin
  insert into mail_outbox (id, user_id, kind, data, dedupe_key)
    values (gen_random_uuid(), p_user, p_kind, p_data, p_dedupe_key)
    on conflict (dedupe_key) do nothing;
  get diagnostics v_count = row_count;
  return v_count > 0;
end $$;

revoke all on function outbox_notice(uuid, text, jsonb, text) from public;
revoke all on function email_fingerprint(text) from public;
revoke all on function email_pattern(text) from public;
revoke all on function stripe_legacy_event(text, text, text) from public;
revoke all on function ledger_forget_email(uuid, text) from public;
