-- llmoin schema, migration 0003: a host name belongs to at most one tenant,
-- enforced in the database (two concurrent changes cannot both win), and
-- appears once in a tenant's list.

CREATE FUNCTION llmoin_hosts_unique() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    taken text;
    owner text;
BEGIN
    IF cardinality(NEW.hosts) <> (SELECT count(DISTINCT h) FROM unnest(NEW.hosts) h) THEN
        RAISE EXCEPTION 'a host name is listed twice' USING ERRCODE = 'unique_violation';
    END IF;
    -- serialise changes of host lists, so the check below sees every commit
    PERFORM pg_advisory_xact_lock(hashtext('llmoin_tenant_hosts'));
    SELECT h, t.slug INTO taken, owner
      FROM tenants t, unnest(t.hosts) h
     WHERE t.id <> NEW.id AND h = ANY (NEW.hosts) LIMIT 1;
    IF taken IS NOT NULL THEN
        RAISE EXCEPTION 'host ''%'' already belongs to tenant ''%''', taken, owner
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER tenants_hosts_unique BEFORE INSERT OR UPDATE OF hosts ON tenants
    FOR EACH ROW EXECUTE FUNCTION llmoin_hosts_unique();
