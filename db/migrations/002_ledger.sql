-- The credit ledger, owned by the billing service. Movements are append-only, each with a unique
-- reference; credit_accounts is the running total of movements, kept in the same transaction and
-- guarded by CHECKs so no race can make the available balance negative. The functions below are
-- the only writers, and are what billing calls, either directly (pg) or through Supabase (rpc).

create table credit_accounts (
  user_id uuid primary key,
  balance bigint not null default 0,
  reserved bigint not null default 0,
  updated_at timestamptz not null default now(),
  constraint reserved_not_negative check (reserved >= 0),
  constraint available_not_negative check (balance - reserved >= 0)
);

create table credit_holds (
  reference text primary key,
  user_id uuid not null,
  amount bigint not null check (amount > 0),
  remaining bigint not null check (remaining >= 0 and remaining <= amount),
  status text not null check (status in ('active', 'closed', 'expired')),
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index credit_holds_expiry on credit_holds (expires_at) where status = 'active';

create table credit_movements (
  id bigserial primary key,
  user_id uuid not null,
  kind text not null check (kind in ('signup', 'purchase', 'adjustment', 'hold', 'capture', 'release', 'expire')),
  delta bigint not null,
  reserved_delta bigint not null,
  reference text not null unique,
  hold_reference text references credit_holds (reference),
  description text not null default '',
  created_at timestamptz not null default now()
);
create index credit_movements_user on credit_movements (user_id, id desc);

create function credit_movements_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'credit_movements is append-only';
end $$;
create trigger credit_movements_no_update before update or delete on credit_movements
  for each row execute function credit_movements_append_only();

-- Grants credits once per reference (signup bonus, purchase, adjustment).
create function ledger_grant(p_user uuid, p_amount bigint, p_kind text, p_reference text, p_description text)
returns table (applied boolean, balance bigint, reserved bigint)
language plpgsql as $$
declare
  v_id bigint;
begin
  if p_amount <= 0 then raise exception 'grant amount must be positive'; end if;
  insert into credit_accounts (user_id) values (p_user) on conflict do nothing;
  perform 1 from credit_accounts a where a.user_id = p_user for update;
  insert into credit_movements (user_id, kind, delta, reserved_delta, reference, description)
    values (p_user, p_kind, p_amount, 0, p_reference, p_description)
    on conflict (reference) do nothing
    returning id into v_id;
  if v_id is not null then
    update credit_accounts a set balance = a.balance + p_amount, updated_at = now() where a.user_id = p_user;
  end if;
  return query select v_id is not null, a.balance, a.reserved from credit_accounts a where a.user_id = p_user;
end $$;

-- Reserves credits for a job. The account row is locked first, so concurrent holds of one user
-- are applied one after the other against fresh totals.
create function ledger_hold(p_user uuid, p_amount bigint, p_reference text, p_ttl_seconds integer, p_description text)
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

-- Resolves part of a hold: 'capture' charges it, 'release' returns it. One reference resolves at
-- most once; an image uses the same reference for both, so it is charged or released, never both.
-- p_amount null means "all that remains".
create function ledger_settle(p_hold_reference text, p_kind text, p_amount bigint, p_reference text, p_description text)
returns table (status text, amount bigint)
language plpgsql as $$
declare
  v_hold credit_holds%rowtype;
  v_amount bigint;
begin
  if p_kind not in ('capture', 'release') then raise exception 'unknown settlement kind %', p_kind; end if;
  select * into v_hold from credit_holds h where h.reference = p_hold_reference for update;
  if not found then
    return query select 'hold_missing'::text, 0::bigint;
    return;
  end if;
  perform 1 from credit_accounts a where a.user_id = v_hold.user_id for update;
  if exists (select 1 from credit_movements m where m.reference = p_reference) then
    return query select 'duplicate'::text, 0::bigint;
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

-- Releases what expired holds still reserve (a job whose queue entry vanished). Each hold is
-- expired once: its status changes in the same statement that releases it.
create function ledger_expire_holds(p_limit integer default 500)
returns table (reference text, released bigint)
language plpgsql as $$
declare
  v_hold credit_holds%rowtype;
begin
  for v_hold in
    select * from credit_holds h where h.status = 'active' and h.expires_at < now()
    order by h.expires_at limit p_limit for update skip locked
  loop
    perform 1 from credit_accounts a where a.user_id = v_hold.user_id for update;
    insert into credit_movements (user_id, kind, delta, reserved_delta, reference, hold_reference, description)
      values (v_hold.user_id, 'expire', 0, -v_hold.remaining, 'expire:' || v_hold.reference, v_hold.reference,
              'Reservation expired');
    update credit_holds h set remaining = 0, status = 'expired' where h.reference = v_hold.reference;
    update credit_accounts a set reserved = a.reserved - v_hold.remaining, updated_at = now()
      where a.user_id = v_hold.user_id;
    reference := v_hold.reference;
    released := v_hold.remaining;
    return next;
  end loop;
end $$;

create function ledger_account(p_user uuid)
returns table (balance bigint, reserved bigint)
language sql stable as $$
  select coalesce(max(a.balance), 0), coalesce(max(a.reserved), 0)
  from credit_accounts a where a.user_id = p_user;
$$;
