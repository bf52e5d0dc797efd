-- Completion webhooks (issue 17): a seller's endpoints, each with its chosen events and its own
-- signing secret (a rotated secret keeps signing beside the new one until its overlap ends),
-- the deliveries of every event to every endpoint (one row per event and endpoint: a retry or a
-- redelivery keeps its event id), every attempt with its status and latency, and the notices a
-- seller is sent (an endpoint disabled after failing for days), ready for the mailer.
create table webhook_endpoints (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  url text not null check (char_length(url) <= 2048),
  events text[] not null,
  description text not null default '',
  secret text not null,
  previous_secret text,
  previous_secret_until timestamptz,
  created_at timestamptz not null default now(),
  -- Set at the first failed delivery of a run of failures, cleared by a success.
  failing_since timestamptz,
  disabled_at timestamptz,
  disabled_reason text
);
create index webhook_endpoints_user on webhook_endpoints (user_id);

create table webhook_deliveries (
  id uuid primary key,
  endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  event_id text not null,
  event_type text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts int not null default 0,
  last_status int,
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  unique (endpoint_id, event_id)
);
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at desc);
create index webhook_deliveries_event on webhook_deliveries (user_id, event_id);

create table webhook_attempts (
  delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
  attempt int not null,
  status int,
  error text,
  latency_ms int not null,
  at timestamptz not null default now(),
  primary key (delivery_id, attempt)
);

create table notices (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  kind text not null,
  subject text not null,
  body text not null,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);

alter table webhook_endpoints enable row level security;
alter table webhook_deliveries enable row level security;
alter table webhook_attempts enable row level security;
alter table notices enable row level security;
