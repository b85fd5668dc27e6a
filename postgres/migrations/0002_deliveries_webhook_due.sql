-- The pending deliveries of each webhook that are due or leased. After
-- every final outcome of an ordered webhook, promote asks whether the
-- webhook still has one; without this index the question walks the
-- webhook's whole backlog, whose deliveries all wait with due_at NULL.
CREATE INDEX deliveries_webhook_due ON deliveries (webhook_id) WHERE state = 0 AND due_at IS NOT NULL;
