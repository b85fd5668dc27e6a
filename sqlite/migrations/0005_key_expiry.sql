-- Keys that stop working at a time: the short-lived keys of portal links.
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
