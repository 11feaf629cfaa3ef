-- Signing out everywhere: every access and refresh token carries its account's token
-- generation when issued; a password change (or a sign-out everywhere) adds one, and a
-- token of an older generation is refused on its next use.
ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
