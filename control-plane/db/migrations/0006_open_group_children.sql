-- A group's children still to end, by run and group: whether a group has
-- any child left is a lookup after each child ends, where reading all of
-- its children every time made a group of n children cost n² rows.
CREATE INDEX "tasks_open_children" ON "tasks" USING btree ("run_id",("spec"->>'parent')) WHERE spec ? 'parent' AND state NOT IN ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED');
