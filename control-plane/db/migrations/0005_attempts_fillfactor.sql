-- An attempt is written twice: inserted at its claim and updated when it ends.
-- Room left on each page lets that update stay on the page (a HOT update),
-- without a new entry in the primary key and the lease id unique index.
ALTER TABLE "attempts" SET (fillfactor = 70);
