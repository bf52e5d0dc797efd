-- What the ledger actually took for each picture, recorded from the ledger's own answer, so
-- progress and the manifest report it rather than infer it from the picture's state.
alter table images add column credits_charged integer not null default 0;

-- Settling a picture (capture or release) by its one reference. Changes from 002:
-- * a repeat answers 'duplicate' with the amount the first one moved (0 if it was of the other
--   kind), so a caller whose answer was lost learns what was taken;
-- * a capture whose hold expired while its job waited (a provider pause longer than the hold's
--   time to live) is taken from the available balance when the seller still has it
--   ('from_balance'), and is refused otherwise ('insufficient'): the picture is then not
--   delivered. A hold closed on purpose (the job closed or deleted) takes no capture, and
--   closing an expired hold (`p_amount` null) marks it closed too, so nothing is taken for a job
--   after its close.
create or replace function ledger_settle(p_hold_reference text, p_kind text, p_amount bigint, p_reference text, p_description text)
returns table (status text, amount bigint)
language plpgsql as $$
declare
  v_hold credit_holds%rowtype;
  v_account credit_accounts%rowtype;
  v_amount bigint;
  v_previous credit_movements%rowtype;
begin
  if p_kind not in ('capture', 'release') then raise exception 'unknown settlement kind %', p_kind; end if;
  select * into v_hold from credit_holds h where h.reference = p_hold_reference for update;
  if not found then
    return query select 'hold_missing'::text, 0::bigint;
    return;
  end if;
  select * into v_account from credit_accounts a where a.user_id = v_hold.user_id for update;
  select * into v_previous from credit_movements m where m.reference = p_reference;
  if found then
    -- What the first settlement moved, in its own kind: a capture asked of a picture that was
    -- released answers 0 (it was not paid for).
    return query select 'duplicate'::text,
      case when v_previous.kind <> p_kind then 0::bigint when p_kind = 'capture' then -v_previous.delta else -v_previous.reserved_delta end;
    return;
  end if;
  if v_hold.status = 'expired' and p_kind = 'capture' then
    v_amount := coalesce(p_amount, 0);
    if v_amount <= 0 then raise exception 'a capture from the balance needs an amount'; end if;
    if v_account.balance - v_account.reserved < v_amount or v_account.debt > 0 then
      return query select 'insufficient'::text, 0::bigint;
      return;
    end if;
    insert into credit_movements (user_id, kind, delta, reserved_delta, reference, hold_reference, description)
      values (v_hold.user_id, 'capture', -v_amount, 0, p_reference, p_hold_reference, p_description || ' (reservation had expired: taken from the balance)');
    update credit_accounts a set balance = a.balance - v_amount, updated_at = now() where a.user_id = v_hold.user_id;
    return query select 'from_balance'::text, v_amount;
    return;
  end if;
  if v_hold.status = 'expired' and p_kind = 'release' and p_amount is null then
    insert into credit_movements (user_id, kind, delta, reserved_delta, reference, hold_reference, description)
      values (v_hold.user_id, 'release', 0, 0, p_reference, p_hold_reference, p_description || ' (reservation had expired)');
    update credit_holds h set status = 'closed' where h.reference = p_hold_reference;
    return query select 'applied'::text, 0::bigint;
    return;
  end if;
  if v_hold.status <> 'active' then
    return query select 'hold_closed'::text, 0::bigint;
    return;
  end if;
  v_amount := least(coalesce(p_amount, v_hold.remaining), v_hold.remaining);
  if v_amount < 0 then raise exception 'settlement amount must not be negative'; end if;
  insert into credit_movements (user_id, kind, delta, reserved_delta, reference, hold_reference, description)
    values (v_hold.user_id, p_kind, case when p_kind = 'capture' then -v_amount else 0 end, -v_amount,
            p_reference, p_hold_reference, p_description);
  update credit_holds h
    set remaining = h.remaining - v_amount,
        status = case when h.remaining - v_amount = 0 then 'closed' else 'active' end
    where h.reference = p_hold_reference;
  update credit_accounts a
    set balance = a.balance - case when p_kind = 'capture' then v_amount else 0 end,
        reserved = a.reserved - v_amount,
        updated_at = now()
    where a.user_id = v_hold.user_id;
  return query select 'applied'::text, v_amount;
end $$;

-- Operators are granted explicitly (npm run operator -- grant EMAIL), never by signing up
-- first with an address listed in the environment.
alter table users add column is_operator boolean not null default false;
