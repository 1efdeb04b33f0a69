-- Intentionally empty: keeps the migration numbers contiguous.
select 1;
