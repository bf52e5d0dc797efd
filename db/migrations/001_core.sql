-- Users, jobs and images: owned by the gateway, updated by the processor.
create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  password_hash text not null,
  created_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));

create table jobs (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  status text not null default 'uploaded'
    check (status in ('uploaded', 'queued', 'processing', 'completed', 'completed_with_errors', 'failed', 'cancelled')),
  pipeline text,
  settings jsonb,
  credits_per_image integer not null check (credits_per_image > 0),
  hold_reference text unique,
  attempt_nonce text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  queued_at timestamptz,
  finished_at timestamptz
);
create index jobs_user on jobs (user_id, created_at desc);

create table images (
  id uuid primary key,
  job_id uuid not null references jobs (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  position integer not null,
  filename text not null,
  upload_key text not null,
  content_sha256 text not null,
  source_format text not null,
  width integer not null,
  height integer not null,
  bytes bigint not null,
  status text not null default 'pending'
    check (status in ('pending', 'processing', 'done', 'failed', 'cancelled')),
  error_code text,
  error_message text,
  qwen_key text,
  cutout_key text,
  result_key text,
  output_name text,
  output_format text,
  output_width integer,
  output_height integer,
  output_bytes bigint,
  shadow_type text,
  compliance jsonb,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (job_id, position)
);
create index images_job on images (job_id, position);

-- Every paid Qwen call, for spend tracking and the daily cap.
create table qwen_calls (
  id bigserial primary key,
  image_id uuid,
  request_id text,
  model text not null,
  outcome text not null,
  http_status integer,
  error_code text,
  latency_ms integer not null,
  cost_micro_usd bigint not null default 0,
  created_at timestamptz not null default now()
);
create index qwen_calls_day on qwen_calls (created_at);
