-- eu_dsa is on for sites created from now on; sites that existed before
-- keep working as they did until an administrator turns it on.
UPDATE sites SET settings = json_set(settings, '$.eu_dsa', json('false'));
