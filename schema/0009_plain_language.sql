-- llmoin schema, migration 0009: the web page's fifth entry function,
-- plain_language ("Einfache Sprache": a text rewritten in plain German), is
-- recorded like the other four.
--
-- 0005 declared the check with the column, so PostgreSQL named it
-- usage_events_function_check. The partitions created from usage_events
-- (PARTITION OF) inherit it: dropping and adding it on usage_events changes
-- it on every partition, existing ones and those created later. The new
-- check allows what the old one did and more; adding it reads the existing
-- rows once, with usage_events locked. The rollups (usage_daily,
-- usage_monthly) keep the function as text without a check of their own.
ALTER TABLE usage_events
    DROP CONSTRAINT usage_events_function_check,
    ADD CONSTRAINT usage_events_function_check
        CHECK (function IN ('chat', 'summarize', 'write', 'research', 'plain_language'));
