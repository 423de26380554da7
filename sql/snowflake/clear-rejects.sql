-- Late in a load's transaction, after the COPY: forget the batch's previous rejects of this entity before the new
-- ones go in. Kept to the end so the two entity loads hold the shared LOAD_REJECTS lock only briefly, one after the other.
DELETE FROM LOAD_REJECTS WHERE BATCH_ID = :batch_id AND ENTITY = :entity;
