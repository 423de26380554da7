-- Transaction control, the same on both engines.
COMMIT;
