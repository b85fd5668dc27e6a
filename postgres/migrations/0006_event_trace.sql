-- The W3C traceparent of the span that published an event, so that every
-- attempt of its deliveries joins the publish's trace; NULL without tracing.
ALTER TABLE events ADD COLUMN traceparent TEXT;
