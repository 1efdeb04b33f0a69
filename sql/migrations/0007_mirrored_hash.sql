-- mirrored_hash: the content hash of the version whose mirror page a sync last wrote. A sync
-- stores a batch, commits, then writes the pages; a crash in between left pages behind their
-- study, and nothing wrote them again while the study stayed unchanged. A sync now also
-- re-exports an unchanged study whose mirrored_hash is not its content_hash.
alter table ctgov.studies add column mirrored_hash text;
