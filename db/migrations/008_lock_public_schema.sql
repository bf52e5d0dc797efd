-- On Supabase every table and function in `public` is reachable through the Data API with the
-- anon key (which Supabase treats as public) unless row-level security is on and EXECUTE is
-- revoked. Nothing of ours is meant for those roles: billing reaches the ledger as the service
-- role, the services reach Postgres as its owner. So: RLS on every table with no policy (only
-- the owner and the service role, which bypass RLS, see rows), and no privilege at all for
-- PUBLIC, anon or authenticated. db/migrate.ts checks after every run that this still holds,
-- so a later migration that adds a table or function must lock it too.
--
-- The Supabase roles exist only on Supabase (and in tests that emulate it); on plain Postgres
-- the PUBLIC revokes are what matters.
do $$
declare
  v_table record;
  v_roles text := 'public';
begin
  for v_table in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = 'public' and c.relkind in ('r', 'p') loop
    execute format('alter table public.%I enable row level security', v_table.relname);
  end loop;

  if exists (select 1 from pg_roles where rolname = 'anon') then v_roles := v_roles || ', anon'; end if;
  if exists (select 1 from pg_roles where rolname = 'authenticated') then v_roles := v_roles || ', authenticated'; end if;
  execute format('revoke all on all tables in schema public from %s', v_roles);
  execute format('revoke all on all sequences in schema public from %s', v_roles);
  execute format('revoke all on all functions in schema public from %s', v_roles);
  -- Objects created later by the role that runs migrations start locked as well.
  execute format('alter default privileges in schema public revoke all on tables from %s', v_roles);
  execute format('alter default privileges in schema public revoke all on sequences from %s', v_roles);
  execute format('alter default privileges in schema public revoke execute on functions from %s', v_roles);
  -- PUBLIC's EXECUTE on new functions is a global default, which a per-schema rule cannot take away.
  alter default privileges revoke execute on functions from public;

  -- supabase-js calls the ledger's functions as the service role: it keeps what it needs.
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    grant usage on schema public to service_role;
    grant all on all tables in schema public to service_role;
    grant all on all sequences in schema public to service_role;
    grant execute on all functions in schema public to service_role;
    alter default privileges in schema public grant all on tables to service_role;
    alter default privileges in schema public grant all on sequences to service_role;
    alter default privileges in schema public grant execute on functions to service_role;
  end if;
end $$;

-- Stripe's dispute status `prevented` (API 2025-08-27): the dispute was stopped before it became
-- a chargeback. It is final, and no money was withdrawn for it: a `block` moves nothing, and a
-- `resolution` refunds the customer, which arrives as charge.refunded and is counted there. So
-- like `won`, it takes no credits back; before, any status outside won/warning_closed took all.
create or replace function stripe_apply_dispute(p_event_id text, p_type text, p_payment_key text, p_status text)
returns text
language plpgsql as $$
begin
  if not stripe_claim_event(p_event_id, p_type, p_payment_key) then return 'duplicate'; end if;
  update stripe_payments p set
      dispute_status = case when p.dispute_status in ('won', 'lost', 'warning_closed', 'prevented') then p.dispute_status else p_status end,
      updated_at = now()
    where p.payment_key = p_payment_key;
  perform stripe_reconcile(p_payment_key);
  return 'recorded';
end $$;

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
    perform ledger_grant(v_payment.user_id, -v_delta, 'reinstatement', v_reference, 'Given back: dispute closed in your favour or prevented');
  end if;
  update stripe_payments p set revoked_credits = v_target, adjustments = p.adjustments + 1, updated_at = now()
    where p.payment_key = p_payment_key;
end $$;
