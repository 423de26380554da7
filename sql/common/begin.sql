-- Transaction control, the same on both engines.
BEGIN TRANSACTION;
