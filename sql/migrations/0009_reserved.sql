-- Number reserved for a migration that lands with another change; intentionally empty here.
select 1;
