-- 0011: the unguessable last segment of each repository's delivery URL (/webhooks/github/<key>), so a delivery names
-- its webhook, and so its secret, before its body is read. '' for webhooks made before: slipway gives them a key
-- when it next reads them for a component, and deliveries to them are refused until then.
ALTER TABLE webhooks ADD COLUMN delivery_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX webhooks_delivery_key ON webhooks (delivery_key) WHERE delivery_key <> '';
