-- 0007: the secret each repository's webhook deliveries are signed with (GitHub) or carry (GitLab), sealed like
-- configs, keyed by the repository's normalized address; hook_id is the webhook slipway made on the Git host ('' when
-- it was added by hand).
CREATE TABLE webhooks (
    repo        {{text}} NOT NULL PRIMARY KEY,
    provider    TEXT     NOT NULL,
    hook_id     TEXT     NOT NULL DEFAULT '',
    kek_id      TEXT     NOT NULL,
    wrapped_key {{blob}} NOT NULL,
    ciphertext  {{blob}} NOT NULL,
    created_at  BIGINT   NOT NULL
);
