-- Sellers moved from the old Masterpost (issue 19): their accounts, the credits they were told
-- they have, their old purchases as history, and the Stripe payments already granted there.
--
-- * A moved seller has no password until they choose one: they sign in once with the access
--   code they had (kept only as an scrypt hash), then POST /auth/password; choosing a password
--   clears the code. `token_version` counts password changes: a session token carries the
--   version it was issued under, and the gateway refuses tokens of an older one.
-- * The opening balance is an ordinary ledger grant (kind 'migration', reference
--   `legacy:<source>:<email>`), so the balance stays the sum of movements. Old purchases and
--   usage are ledger rows of kind 'legacy' that move nothing (delta 0): the ledger stays
--   append-only, GET /credits/history shows them, and their unique references make a re-run
--   add nothing.
-- * Stripe Checkout Sessions and PaymentIntents the old app already credited are recorded, and
--   a late redelivery of one of their webhooks grants nothing.

alter table users alter column password_hash drop not null;
alter table users add column access_code_hash text;
alter table users add column token_version integer not null default 0;

alter table credit_movements drop constraint credit_movements_kind_check;
alter table credit_movements add constraint credit_movements_kind_check
  check (kind in ('signup', 'purchase', 'adjustment', 'hold', 'capture', 'release', 'expire', 'reversal', 'reinstatement',
                  'migration', 'legacy', 'spend'));
-- Only history rows may move nothing outside a hold's life; a 'legacy' row never moves anything.
alter table credit_movements add constraint legacy_moves_nothing
  check (kind <> 'legacy' or (delta = 0 and reserved_delta = 0 and debt_delta = 0));

-- One row per seller and source: what the import has granted so far, so a re-run grants only
-- what the source gained since (a late purchase in the old app) and never the same twice.
create table legacy_sellers (
  source text not null check (source in ('sqlite', 'supabase')),
  email text not null check (email = lower(email)),
  user_id uuid not null references users (id) on delete cascade,
  credits_granted bigint not null default 0 check (credits_granted >= 0),
  -- The old rows merged into this seller, as the old app spelled their emails.
  source_emails text[] not null,
  imported_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (source, email)
);
create index legacy_sellers_user on legacy_sellers (user_id);

create table legacy_stripe_ids (
  id text primary key,
  kind text not null check (kind in ('checkout_session', 'payment_intent')),
  user_id uuid not null,
  source text not null,
  imported_at timestamptz not null default now()
);

alter table legacy_sellers enable row level security;
alter table legacy_stripe_ids enable row level security;

-- History shows the moved seller's old entries too (they move nothing, so 002's filter hid them).
create or replace function ledger_history(p_user uuid, p_limit integer, p_before bigint default null)
returns table (id bigint, delta bigint, debt_delta bigint, kind text, reference text, description text, created_at timestamptz)
language sql stable as $$
  select m.id, m.delta, m.debt_delta, m.kind, m.reference, m.description, m.created_at
  from credit_movements m
  where m.user_id = p_user and (m.delta <> 0 or m.debt_delta <> 0 or m.kind = 'legacy') and (p_before is null or m.id < p_before)
  order by m.id desc limit p_limit;
$$;

-- One seller of one source, in one transaction: the account (made on the first run), the
-- credits the source shows beyond what was granted before, the history entries and the Stripe
-- ids not yet recorded. p_history: [{reference, description, created_at}], p_stripe_ids:
-- [{id, kind}]. An account that exists without coming from an import (someone signed up in the
-- new app with this address) is left alone: 'conflict', to be resolved by hand, because
-- whoever registered an address is not proven to be the seller who owned it before.
create function legacy_import_seller(
  p_source text, p_email text, p_source_emails text[], p_preferred_id uuid, p_access_code_hash text,
  p_credits bigint, p_created_at timestamptz, p_history jsonb, p_stripe_ids jsonb)
returns table (status text, user_id uuid, granted bigint, total_granted bigint, history_added integer, stripe_ids_added integer)
language plpgsql as $$
declare
  v_seller legacy_sellers%rowtype;
  v_user uuid;
  v_new boolean := false;
  v_grant bigint := 0;
  v_reference text;
  v_history integer := 0;
  v_stripe integer := 0;
  v_count integer;
begin
  if p_email is null or p_email <> lower(btrim(p_email)) then raise exception 'legacy_import_seller: email must be trimmed and lower case'; end if;
  if p_credits is null or p_credits < 0 then raise exception 'legacy_import_seller: credits must be a whole number >= 0'; end if;
  -- The same address imported by two runs (or from both sources) at once: one after the other.
  perform pg_advisory_xact_lock(hashtextextended('legacy:' || p_email, 0));
  -- A seller who came across (from either source) and then deleted their account here is not
  -- brought back, nor the credits they gave up (account deletion fingerprints the address: 013).
  if exists (select 1 from legacy_sellers s where s.email = email_fingerprint(p_email)) then
    return query select 'deleted'::text, null::uuid, 0::bigint, 0::bigint, 0, 0;
    return;
  end if;
  select * into v_seller from legacy_sellers s where s.source = p_source and s.email = p_email for update;
  if found then
    v_user := v_seller.user_id;
  else
    select u.id into v_user from users u where lower(u.email) = p_email;
    if v_user is not null and not exists (select 1 from legacy_sellers s where s.user_id = v_user) then
      return query select 'conflict'::text, v_user, 0::bigint, 0::bigint, 0, 0;
      return;
    end if;
    if v_user is null then
      v_new := true;
      v_user := case when p_preferred_id is not null and not exists (select 1 from users u where u.id = p_preferred_id)
                     then p_preferred_id else gen_random_uuid() end;
      insert into users (id, email, password_hash, access_code_hash, created_at)
        values (v_user, p_email, null, p_access_code_hash, coalesce(p_created_at, now()));
    end if;
    insert into legacy_sellers (source, email, user_id, credits_granted, source_emails)
      values (p_source, p_email, v_user, 0, p_source_emails)
      returning * into v_seller;
  end if;

  -- Oldest first, so the history reads newest first with the opening balance on top.
  insert into credit_movements (user_id, kind, delta, reserved_delta, reference, description, created_at)
    select v_user, 'legacy', 0, 0, h.reference, h.description, coalesce(h.created_at, now())
    from jsonb_to_recordset(coalesce(p_history, '[]'::jsonb)) as h (reference text, description text, created_at timestamptz)
    order by h.created_at nulls first, h.reference
    on conflict (reference) do nothing;
  get diagnostics v_history = row_count;

  insert into legacy_stripe_ids (id, kind, user_id, source)
    select s.id, s.kind, v_user, p_source
    from jsonb_to_recordset(coalesce(p_stripe_ids, '[]'::jsonb)) as s (id text, kind text)
    on conflict (id) do nothing;
  get diagnostics v_stripe = row_count;

  if p_credits > v_seller.credits_granted then
    v_grant := p_credits - v_seller.credits_granted;
    -- The first grant has the plain reference; a later one (the old app sold credits after the
    -- first run) is keyed by the total it brings the seller to, so that total is granted once.
    v_reference := case when v_seller.credits_granted = 0 and not exists (select 1 from credit_movements m where m.reference = format('legacy:%s:%s', p_source, p_email))
                        then format('legacy:%s:%s', p_source, p_email)
                        else format('legacy:%s:%s:total:%s', p_source, p_email, p_credits) end;
    select count(*) into v_count from ledger_grant(v_user, v_grant, 'migration', v_reference,
      case when v_seller.credits_granted = 0 then 'Credits brought from the old Masterpost'
           else 'Credits bought in the old Masterpost after the move' end) g where g.applied;
    if v_count = 0 then v_grant := 0; end if;
  end if;

  -- Touched only when something changed: a re-run with nothing new writes nothing.
  update legacy_sellers s
    set credits_granted = s.credits_granted + v_grant,
        source_emails = (select array_agg(distinct e order by e) from unnest(s.source_emails || p_source_emails) e),
        updated_at = now()
    where s.source = p_source and s.email = p_email
      and (v_grant > 0 or not (s.source_emails @> p_source_emails));

  return query select
    case when v_new then 'imported' when v_grant > 0 or v_history > 0 or v_stripe > 0 then 'updated' else 'unchanged' end,
    v_user, v_grant, v_seller.credits_granted + v_grant, v_history, v_stripe;
end $$;

-- A late redelivery of a webhook for a payment the old app already credited grants nothing: it
-- is recorded (so it is not looked at again) and answered 'ignored'.
create or replace function stripe_apply_checkout(
  p_event_id text, p_type text, p_payment_key text, p_session_id text, p_user uuid, p_pack text,
  p_credits bigint, p_amount_cents bigint, p_paid boolean, p_failed boolean, p_description text)
returns text
language plpgsql as $$
declare
  v_payment stripe_payments%rowtype;
begin
  if exists (select 1 from legacy_stripe_ids l where l.id in (p_session_id, p_payment_key, regexp_replace(p_payment_key, '^session:', ''))) then
    insert into stripe_events (id, type, payment_key, outcome) values (p_event_id, p_type, p_payment_key, 'legacy')
      on conflict (id) do nothing;
    return 'ignored';
  end if;
  if not stripe_claim_event(p_event_id, p_type, p_payment_key) then return 'duplicate'; end if;
  select * into v_payment from stripe_payments p where p.payment_key = p_payment_key;
  -- A payment already granted (by add_credits, or an earlier event) keeps whose it is and what it
  -- granted: a later event must not move its refunds onto another seller.
  update stripe_payments p set
      session_id = coalesce(p.session_id, p_session_id),
      user_id = case when p.granted then p.user_id else p_user end,
      pack_id = case when p.granted then p.pack_id else p_pack end,
      credits = case when p.granted then p.credits else p_credits end,
      amount_cents = case when p.granted and p.amount_cents is not null then p.amount_cents else p_amount_cents end,
      paid = p.paid or p_paid, payment_failed = p.payment_failed or p_failed, updated_at = now()
    where p.payment_key = p_payment_key;
  if p_paid and not v_payment.granted then
    perform ledger_grant(p_user, p_credits, 'purchase', 'stripe:session:' || p_session_id, p_description);
    update stripe_payments p set granted = true where p.payment_key = p_payment_key;
  end if;
  perform stripe_reconcile(p_payment_key);
  return case when p_paid and not v_payment.granted then 'granted' else 'recorded' end;
end $$;

-- The old Supabase variant's RPCs, which existing tools call through supabase-js, over the
-- ledger. Callable by the service role only (008): the old anon-key access is not restored.

-- The available balance (what can be spent now: the balance less what running jobs reserve).
create function get_user_credits(p_user_id uuid) returns integer
language sql stable as $$
  select coalesce(max(a.balance - a.reserved), 0)::integer from credit_accounts a where a.user_id = p_user_id;
$$;

-- An immediate, idempotent charge. With p_idempotency_key (new; a tool should send one) a repeat
-- answers what the first call answered and charges nothing, whenever it comes. The old tools send
-- no key: for them a call with the same type and description within 10 minutes is taken as a
-- retry of the same work (answered, not charged), and one after that as new work, as the old
-- function charged a tool that describes all its work alike ("Background removal") every time.
-- An id with no live account is refused. The answers are the old
-- ones: {success, credits_used, credits_remaining} or
-- {success: false, error: 'Insufficient credits', current_credits, needed}.
create function use_credits(p_user_id uuid, p_credits_needed integer, p_transaction_type text, p_description text,
                            p_idempotency_key text default null)
returns json
language plpgsql as $$
declare
  v_account credit_accounts%rowtype;
  v_work text;
  v_previous credit_movements%rowtype;
begin
  if p_user_id is null then raise exception 'use_credits: p_user_id is required'; end if;
  if p_credits_needed is null or p_credits_needed <= 0 then raise exception 'use_credits: p_credits_needed must be a positive whole number'; end if;
  v_work := format('use_credits:%s:%s:', p_user_id,
    md5(coalesce('key:' || p_idempotency_key, 'work:' || coalesce(p_transaction_type, '') || ':' || coalesce(p_description, ''))));
  if not exists (select 1 from users u where u.id = p_user_id and u.deleted_at is null) then
    raise exception 'use_credits: no account has the id %', p_user_id;
  end if;
  insert into credit_accounts (user_id) values (p_user_id) on conflict do nothing;
  select * into v_account from credit_accounts a where a.user_id = p_user_id for update;
  -- The account's row is locked: two identical calls at once are one after the other here.
  select * into v_previous from credit_movements m
    where m.user_id = p_user_id and m.kind = 'spend' and starts_with(m.reference, v_work)
      and (p_idempotency_key is not null or m.created_at > now() - interval '10 minutes')
    order by m.id desc limit 1;
  if found then
    return json_build_object('success', true, 'credits_used', -v_previous.delta, 'credits_remaining', v_account.balance - v_account.reserved);
  end if;
  if v_account.debt > 0 or v_account.balance - v_account.reserved < p_credits_needed then
    return json_build_object('success', false, 'error', 'Insufficient credits',
      'current_credits', greatest(v_account.balance - v_account.reserved, 0), 'needed', p_credits_needed);
  end if;
  insert into credit_movements (user_id, kind, delta, reserved_delta, reference, description)
    values (p_user_id, 'spend', -p_credits_needed, 0, v_work || gen_random_uuid()::text,
            coalesce(nullif(p_description, ''), coalesce(p_transaction_type, 'usage')));
  update credit_accounts a set balance = a.balance - p_credits_needed, updated_at = now() where a.user_id = p_user_id;
  return json_build_object('success', true, 'credits_used', p_credits_needed, 'credits_remaining', v_account.balance - v_account.reserved - p_credits_needed);
end $$;

-- A grant for a Stripe payment, once per PaymentIntent: the same payment twice (or one the
-- Stripe webhook or the old app already credited) adds nothing and answers credits_added 0.
-- It shares the payment's row with the webhook (stripe_payments, locked), so the webhook of a
-- payment granted here grants nothing more, and the other way round.
create function add_credits(p_user_id uuid, p_credits_amount integer, p_description text, p_stripe_payment_intent_id text)
returns json
language plpgsql as $$
declare
  v_payment stripe_payments%rowtype;
  v_total bigint;
begin
  if p_user_id is null then raise exception 'add_credits: p_user_id is required'; end if;
  if p_credits_amount is null or p_credits_amount <= 0 then raise exception 'add_credits: p_credits_amount must be a positive whole number'; end if;
  if p_stripe_payment_intent_id is null or btrim(p_stripe_payment_intent_id) = '' then
    raise exception 'add_credits: p_stripe_payment_intent_id is required (it makes the same payment grant once)';
  end if;
  if not exists (select 1 from users u where u.id = p_user_id and u.deleted_at is null) then
    raise exception 'add_credits: no account has the id % (credits for nobody would be lost)', p_user_id;
  end if;
  insert into stripe_payments (payment_key) values (p_stripe_payment_intent_id) on conflict do nothing;
  select * into v_payment from stripe_payments p where p.payment_key = p_stripe_payment_intent_id for update;
  if v_payment.granted or exists (select 1 from legacy_stripe_ids l where l.id = p_stripe_payment_intent_id) then
    select coalesce(max(a.balance - a.reserved), 0) into v_total from credit_accounts a where a.user_id = p_user_id;
    return json_build_object('success', true, 'credits_added', 0, 'credits_total', v_total, 'already_applied', true);
  end if;
  perform ledger_grant(p_user_id, p_credits_amount, 'purchase', 'stripe:payment_intent:' || p_stripe_payment_intent_id,
                       coalesce(nullif(p_description, ''), format('Bought %s credits', p_credits_amount)));
  -- The amount paid is not known here (null): a refund of it takes all its credits back (013's stripe_reconcile).
  update stripe_payments p set user_id = p_user_id, credits = p_credits_amount, amount_cents = null, paid = true, granted = true, updated_at = now()
    where p.payment_key = p_stripe_payment_intent_id;
  select a.balance - a.reserved into v_total from credit_accounts a where a.user_id = p_user_id;
  return json_build_object('success', true, 'credits_added', p_credits_amount, 'credits_total', v_total);
end $$;

-- Locked like everything else (008): default privileges already keep these from anon and
-- authenticated; PUBLIC's execute on the new functions is taken back explicitly for plain Postgres.
revoke all on function legacy_import_seller(text, text, text[], uuid, text, bigint, timestamptz, jsonb, jsonb) from public;
revoke all on function get_user_credits(uuid) from public;
revoke all on function use_credits(uuid, integer, text, text, text) from public;
revoke all on function add_credits(uuid, integer, text, text) from public;
