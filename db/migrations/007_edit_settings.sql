-- The manual editor's settings for a picture, kept so the next edit (a new mask, another shadow)
-- starts from what the seller last chose rather than from the job's settings.
alter table images add column edit_settings jsonb;
