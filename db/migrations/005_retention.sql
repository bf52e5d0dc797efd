-- Uploads and results are deleted after the retention period (default 7 days); the job's row
-- stays, for the seller's history and for support, marked with when its files went.
alter table jobs add column files_deleted_at timestamptz;
create index jobs_retention on jobs (created_at) where files_deleted_at is null;
