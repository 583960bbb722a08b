-- Format `template`: the user's body template and its content type.
ALTER TABLE webhooks ADD COLUMN template_body TEXT;
ALTER TABLE webhooks ADD COLUMN template_content_type TEXT;
-- Times in this webhook's messages; NULL = the server's setting.
ALTER TABLE webhooks ADD COLUMN time_zone TEXT;
-- Who chat messages @mention: JSON {"all", "user_ids", "mobiles"}; NULL = nobody.
ALTER TABLE webhooks ADD COLUMN mentions TEXT;
