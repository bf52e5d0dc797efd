-- API keys: a seller's credentials for code (issue 16). Only a SHA-256 of each key is kept; the
-- key itself is shown once, when it is made. A revoked key stays (for the seller's list and for
-- audit) and is refused at once by every gateway, which looks keys up here on every request.
create table api_keys (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  -- The first characters of the key, shown in lists so a seller can tell keys apart.
  prefix text not null,
  key_hash text not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_user on api_keys (user_id, created_at desc);

-- Locked like every table (008): default privileges already give anon and authenticated nothing.
alter table api_keys enable row level security;
