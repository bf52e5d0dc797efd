-- A successful Qwen call's result URL stays valid for 24 hours. Keeping it lets a process that
-- takes over an image (the first one died between the answer and the download) fetch the
-- picture already paid for instead of paying for a new one.
alter table qwen_calls add column result_url text;
create index qwen_calls_image on qwen_calls (image_id, id);

-- A picture made from an output already paid for by this seller (the same photo, preset prompt
-- and model) is delivered free: this marks it, for the seller's view and for support.
alter table images add column reused_output boolean not null default false;
