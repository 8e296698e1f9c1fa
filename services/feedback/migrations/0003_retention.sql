-- When a submission's personal data was erased (its submitter's key deleted,
-- on request or when its retention period passed): the retention sweep looks
-- only at submissions not erased yet. Set from PersonalDataErased.
ALTER TABLE submissions ADD COLUMN personal_data_erased_at timestamptz;
