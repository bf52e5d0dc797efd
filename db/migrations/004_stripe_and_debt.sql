-- Stripe's side of the ledger: every webhook event applied once (by event id, in the same
-- transaction as its effect), one row of state per payment that events of any order merge
-- into, and the credits a refund or dispute takes back.
--
-- Policy for a refund or dispute after the credits were spent: what is still available is taken
-- back, the rest becomes a debt. The available balance is still never negative (the CHECK of
-- 002 stands); an account with a debt cannot reserve credits for new work until a purchase pays
-- the debt off (grants pay debts first).

alter table credit_accounts add column debt bigint not null default 0;
alter table credit_accounts add constraint debt_not_negative check (debt >= 0);

alter table credit_movements add column debt_delta bigint not null default 0;
alter table credit_movements drop constraint credit_movements_kind_check;
alter table credit_movements add constraint credit_movements_kind_check
  check (kind in ('signup', 'purchase', 'adjustment', 'hold', 'capture', 'release', 'expire', 'reversal', 'reinstatement'));

-- Grants credits once per reference; a debt is paid off first.
create or replace function ledger_grant(p_user uuid, p_amount bigint, p_kind text, p_reference text, p_description text)
returns table (applied boolean, balance bigint, reserved bigint)
language plpgsql as $$
declare
  v_account credit_accounts%rowtype;
  v_paid bigint;
  v_id bigint;
begin
  if p_amount <= 0 then raise exception 'grant amount must be positive'; end if;
  insert into credit_accounts (user_id) values (p_user) on conflict do nothing;
  select * into v_account from credit_accounts a where a.user_id = p_user for update;
  v_paid := least(v_account.debt, p_amount);
  insert into credit_movements (user_id, kind, delta, reserved_delta, debt_delta, reference, description)
    values (p_user, p_kind, p_amount - v_paid, 0, -v_paid, p_reference,
            p_description || case when v_paid > 0 then format(' (%s paid a debt)', v_paid) else '' end)
    on conflict (reference) do nothing
    returning id into v_id;
  if v_id is not null then
    update credit_accounts a set balance = a.balance + p_amount - v_paid, debt = a.debt - v_paid, updated_at = now()
      where a.user_id = p_user;
  end if;
  return query select v_id is not null, a.balance, a.reserved from credit_accounts a where a.user_id = p_user;
end $$;

-- Takes credits back (a refund or a dispute): from what is available first, the rest as debt.
-- Credits reserved for running work are left alone, so no running job loses its reservation.
create function ledger_revoke(p_user uuid, p_amount bigint, p_reference text, p_description text)
returns table (applied boolean, taken bigint, owed bigint)
language plpgsql as $$
declare
  v_account credit_accounts%rowtype;
  v_taken bigint;
  v_id bigint;
begin
  if p_amount <= 0 then raise exception 'revoke amount must be positive'; end if;
  insert into credit_accounts (user_id) values (p_user) on conflict do nothing;
  select * into v_account from credit_accounts a where a.user_id = p_user for update;
  v_taken := least(p_amount, greatest(v_account.balance - v_account.reserved, 0));
  insert into credit_movements (user_id, kind, delta, reserved_delta, debt_delta, reference, description)
    values (p_user, 'reversal', -v_taken, 0, p_amount - v_taken, p_reference, p_description)
    on conflict (reference) do nothing
    returning id into v_id;
  if v_id is null then
    return query select false, 0::bigint, 0::bigint;
    return;
  end if;
  update credit_accounts a set balance = a.balance - v_taken, debt = a.debt + p_amount - v_taken, updated_at = now()
    where a.user_id = p_user;
  return query select true, v_taken, p_amount - v_taken;
end $$;

-- Reserving refuses an account that owes credits.
create or replace function ledger_hold(p_user uuid, p_amount bigint, p_reference text, p_ttl_seconds integer, p_description text)
returns table (status text, balance bigint, reserved bigint)
language plpgsql as $$
declare
  v_account credit_accounts%rowtype;
begin
  if p_amount <= 0 then raise exception 'hold amount must be positive'; end if;
  insert into credit_accounts (user_id) values (p_user) on conflict do nothing;
  select * into v_account from credit_accounts a where a.user_id = p_user for update;
  if exists (select 1 from credit_holds h where h.reference = p_reference) then
    return query select 'duplicate'::text, v_account.balance, v_account.reserved;
    return;
  end if;
  if v_account.debt > 0 then
    return query select 'in_debt'::text, v_account.balance, v_account.reserved;
    return;
  end if;
  if v_account.balance - v_account.reserved < p_amount then
    return query select 'insufficient'::text, v_account.balance, v_account.reserved;
    return;
  end if;
  insert into credit_holds (reference, user_id, amount, remaining, status, expires_at)
    values (p_reference, p_user, p_amount, p_amount, 'active', now() + make_interval(secs => p_ttl_seconds));
  insert into credit_movements (user_id, kind, delta, reserved_delta, reference, hold_reference, description)
    values (p_user, 'hold', 0, p_amount, 'hold:' || p_reference, p_reference, p_description);
  update credit_accounts a set reserved = a.reserved + p_amount, updated_at = now() where a.user_id = p_user;
  return query select 'held'::text, a.balance, a.reserved from credit_accounts a where a.user_id = p_user;
end $$;

drop function ledger_account(uuid);
create function ledger_account(p_user uuid)
returns table (balance bigint, reserved bigint, debt bigint)
language sql stable as $$
  select coalesce(max(a.balance), 0), coalesce(max(a.reserved), 0), coalesce(max(a.debt), 0)
  from credit_accounts a where a.user_id = p_user;
$$;

-- What changed a seller's balance or debt, newest first (holds and releases only move `reserved`).
create function ledger_history(p_user uuid, p_limit integer, p_before bigint default null)
returns table (id bigint, delta bigint, debt_delta bigint, kind text, reference text, description text, created_at timestamptz)
language sql stable as $$
  select m.id, m.delta, m.debt_delta, m.kind, m.reference, m.description, m.created_at
  from credit_movements m
  where m.user_id = p_user and (m.delta <> 0 or m.debt_delta <> 0) and (p_before is null or m.id < p_before)
  order by m.id desc limit p_limit;
$$;

create table stripe_events (
  id text primary key,
  type text not null,
  payment_key text,
  outcome text not null,
  received_at timestamptz not null default now()
);

-- One row a payment, keyed by its PaymentIntent (or 'session:<id>' for a session without one).
-- Events only ever add facts to it: paid, the largest cumulative refund seen, a dispute's state
-- (terminal states win). The credits taken back are then recomputed from the facts, so events
-- in any order, any number of times, end in the same state.
create table stripe_payments (
  payment_key text primary key,
  session_id text unique,
  user_id uuid,
  pack_id text,
  credits bigint,
  amount_cents bigint,
  paid boolean not null default false,
  payment_failed boolean not null default false,
  granted boolean not null default false,
  refunded_cents bigint not null default 0,
  dispute_status text,
  revoked_credits bigint not null default 0,
  adjustments integer not null default 0,
  updated_at timestamptz not null default now()
);

-- Records an event once; false when it was applied before (a redelivery).
create function stripe_event_first_seen(p_event_id text, p_type text, p_payment_key text) returns boolean
language plpgsql as $$
declare
  v_id text;
begin
  insert into stripe_events (id, type, payment_key, outcome) values (p_event_id, p_type, p_payment_key, 'applied')
    on conflict (id) do nothing returning id into v_id;
  return v_id is not null;
end $$;

-- The start of every event: false for a redelivery; otherwise the payment's row exists and is
-- locked for the rest of the transaction.
create function stripe_claim_event(p_event_id text, p_type text, p_payment_key text) returns boolean
language plpgsql as $$
begin
  if not stripe_event_first_seen(p_event_id, p_type, p_payment_key) then return false; end if;
  insert into stripe_payments (payment_key) values (p_payment_key) on conflict do nothing;
  perform 1 from stripe_payments p where p.payment_key = p_payment_key for update;
  return true;
end $$;

-- Brings the credits taken back from a payment in line with its facts.
create function stripe_reconcile(p_payment_key text) returns void
language plpgsql as $$
declare
  v_payment stripe_payments%rowtype;
  v_target bigint;
  v_delta bigint;
  v_reference text;
begin
  select * into v_payment from stripe_payments p where p.payment_key = p_payment_key for update;
  if not found or not v_payment.granted then return; end if;
  if v_payment.dispute_status is not null and v_payment.dispute_status not in ('won', 'warning_closed') then
    v_target := v_payment.credits;
  elsif v_payment.amount_cents > 0 then
    v_target := least(v_payment.credits, (v_payment.credits * v_payment.refunded_cents) / v_payment.amount_cents);
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
    perform ledger_grant(v_payment.user_id, -v_delta, 'reinstatement', v_reference, 'Given back: dispute closed in your favour');
  end if;
  update stripe_payments p set revoked_credits = v_target, adjustments = p.adjustments + 1, updated_at = now()
    where p.payment_key = p_payment_key;
end $$;

-- checkout.session.completed / async_payment_succeeded / async_payment_failed.
create function stripe_apply_checkout(
  p_event_id text, p_type text, p_payment_key text, p_session_id text, p_user uuid, p_pack text,
  p_credits bigint, p_amount_cents bigint, p_paid boolean, p_failed boolean, p_description text)
returns text
language plpgsql as $$
declare
  v_payment stripe_payments%rowtype;
begin
  if not stripe_claim_event(p_event_id, p_type, p_payment_key) then return 'duplicate'; end if;
  select * into v_payment from stripe_payments p where p.payment_key = p_payment_key;
  update stripe_payments p set
      session_id = p_session_id, user_id = p_user, pack_id = p_pack, credits = p_credits, amount_cents = p_amount_cents,
      paid = p.paid or p_paid, payment_failed = p.payment_failed or p_failed, updated_at = now()
    where p.payment_key = p_payment_key;
  if p_paid and not v_payment.granted then
    perform ledger_grant(p_user, p_credits, 'purchase', 'stripe:session:' || p_session_id, p_description);
    update stripe_payments p set granted = true where p.payment_key = p_payment_key;
  end if;
  perform stripe_reconcile(p_payment_key);
  return case when p_paid and not v_payment.granted then 'granted' else 'recorded' end;
end $$;

-- charge.refunded: the charge's cumulative refunded amount.
create function stripe_apply_refund(p_event_id text, p_type text, p_payment_key text, p_amount_refunded bigint)
returns text
language plpgsql as $$
begin
  if not stripe_claim_event(p_event_id, p_type, p_payment_key) then return 'duplicate'; end if;
  update stripe_payments p set refunded_cents = greatest(p.refunded_cents, p_amount_refunded), updated_at = now()
    where p.payment_key = p_payment_key;
  perform stripe_reconcile(p_payment_key);
  return 'recorded';
end $$;

-- charge.dispute.created / updated / closed: a closed dispute's outcome is final.
create function stripe_apply_dispute(p_event_id text, p_type text, p_payment_key text, p_status text)
returns text
language plpgsql as $$
begin
  if not stripe_claim_event(p_event_id, p_type, p_payment_key) then return 'duplicate'; end if;
  update stripe_payments p set
      dispute_status = case when p.dispute_status in ('won', 'lost', 'warning_closed') then p.dispute_status else p_status end,
      updated_at = now()
    where p.payment_key = p_payment_key;
  perform stripe_reconcile(p_payment_key);
  return 'recorded';
end $$;
