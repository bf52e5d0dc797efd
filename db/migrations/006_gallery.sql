-- Before/after examples for the landing page: copies of the two pictures (so a job's retention
-- never empties the gallery), added by operators or seeded with generated examples.
create table gallery_items (
  id uuid primary key,
  title text not null,
  description text not null default '',
  pipeline text not null,
  original_key text not null,
  original_format text not null,
  processed_key text not null,
  processed_format text not null,
  source_image_id uuid,
  created_at timestamptz not null default now()
);
create index gallery_items_created on gallery_items (created_at desc);
